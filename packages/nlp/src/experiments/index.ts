// @tfjs-lora/nlp/experiments: the text datasets (npm @stdlib dataset packages, optional peer dependencies
// of this package, loaded on first use) and the two experiments built on them. Importing it registers the
// layer kinds, as the root entry does.
import '../register-on-import.js';

export { loadMobyDick, loadSotu, loadSpamAssassin, emailText, type Speech, type Email } from './text-data.js';
export {
  runStyleAdaptation,
  formatStyleTable,
  splitSpeeches,
  type StyleMethod,
  type StyleAdaptationOptions,
  type StyleProgress,
  type StyleAdaptationRow,
  type StyleAdaptationResult,
} from './style-adaptation.js';
export {
  runSpamClassification,
  formatSpamTable,
  type SpamMethod,
  type SpamClassificationOptions,
  type SpamClassificationRow,
  type SpamClassificationResult,
} from './spam-classifier.js';
