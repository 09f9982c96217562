/** The suggestion helpers live in core, so the simulator's scenario checks use them too. */
export { closest, didYouMean } from '../core/suggest.js';
