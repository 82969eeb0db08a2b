/**
 * Registers RE2 (regex-re2-engine.ts) as the engine of `matches`. Importing this module is enough;
 * tools import it through load-file.ts. The Lambda functions do not: they load RE2 from re2.mjs, and
 * only when their rules use `matches` (load-bundled.ts), so it stays out of index.mjs.
 */
import { useRegexEngine } from "./regex.ts";
import { re2Engine } from "./regex-re2-engine.ts";

export { re2Engine };

useRegexEngine(re2Engine);
