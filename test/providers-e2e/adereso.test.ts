/** Adereso through the engine: the provider suite (support/provider-suite.ts) with Adereso's row. */
import { ADERESO } from './cases/adereso.js';
import { describeProviderThroughEngine } from './support/provider-suite.js';

describeProviderThroughEngine(ADERESO);
