/** contacto-multichat through the engine: the provider suite (support/provider-suite.ts) with multichat's row. */
import { MULTICHAT } from './cases/multichat.js';
import { describeProviderThroughEngine } from './support/provider-suite.js';

describeProviderThroughEngine(MULTICHAT);
