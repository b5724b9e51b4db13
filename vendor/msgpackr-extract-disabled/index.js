// msgpackr loads this inside try/catch and falls back to pure JavaScript when it throws.
throw new Error('msgpackr-extract native acceleration is not installed in this project');
