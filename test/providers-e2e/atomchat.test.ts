/** AtomChat through the engine: the provider suite (support/provider-suite.ts) with AtomChat's row. */
import { ATOMCHAT } from './cases/atomchat.js';
import { describeProviderThroughEngine } from './support/provider-suite.js';

describeProviderThroughEngine(ATOMCHAT);
