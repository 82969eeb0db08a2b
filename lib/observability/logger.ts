/**
 * The project's logger: Powertools Logger (JSON lines, Lambda context, X-Ray id, log level from
 * POWERTOOLS_LOG_LEVEL) with our redaction, which Powertools does not do.
 *
 * Why it cannot be bypassed through this logger or its children:
 * 1. every line is built by RedactingLogFormatter.formatAttributes, which redacts the message and
 *    all attributes (call arguments, appendKeys/appendPersistentKeys, errors and their causes);
 * 2. every line is then serialized with `redactJsonValue` as the JSON replacer, which masks any
 *    sensitive key or bearer credential that reaches serialization by another path (buffered lines);
 * 3. RedactingLogger forces both in its constructor, and createChild() builds RedactingLoggers,
 *    so options passed to createLogger/createChild cannot replace them.
 * Do not construct `new Logger()` from Powertools directly anywhere in this project.
 */
import { LogFormatter, Logger, LogItem } from "@aws-lambda-powertools/logger";
import type {
  ConstructorOptions,
  LogAttributes,
  UnformattedAttributes,
} from "@aws-lambda-powertools/logger/types";
import { redact, redactJsonValue, redactString } from "./redact.ts";
import type { SinkConsole } from "./sink.ts";

export class RedactingLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message:
        typeof attributes.message === "string"
          ? redactString(attributes.message)
          : redact(attributes.message),
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(redact(additionalLogAttributes) as LogAttributes);
  }

  override formatError(error: Error): LogAttributes {
    return redact(error) as LogAttributes;
  }
}

export class RedactingLogger extends Logger {
  readonly #sink: SinkConsole | undefined;

  constructor(options: ConstructorOptions = {}, sink?: SinkConsole) {
    const { logRecordOrder: _ignored, ...rest } = options as ConstructorOptions & {
      logRecordOrder?: unknown;
    };
    super({
      ...rest,
      logFormatter: new RedactingLogFormatter(),
      jsonReplacerFn: redactJsonValue,
    } as ConstructorOptions);
    this.#sink = sink;
    // Powertools writes through a private Console; the test/local sink replaces it.
    if (sink !== undefined) (this as unknown as { console: SinkConsole }).console = sink;
  }

  protected override createLogger(options?: ConstructorOptions): RedactingLogger {
    return new RedactingLogger(options, this.#sink);
  }

  override createChild(options?: ConstructorOptions): RedactingLogger {
    return super.createChild(options) as RedactingLogger;
  }
}

export interface CreateLoggerOptions {
  /** Defaults to POWERTOOLS_SERVICE_NAME, then "isc-trigger-responder". */
  serviceName?: string;
  /** Defaults to POWERTOOLS_LOG_LEVEL, then INFO. */
  logLevel?: "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT" | "CRITICAL";
  /** Keys on every line (already redacted like everything else). */
  persistentKeys?: LogAttributes;
  /** Where lines go instead of stdout (tests, local runner): see createMemorySink. */
  sink?: SinkConsole;
}

export function createLogger(options: CreateLoggerOptions = {}): RedactingLogger {
  return new RedactingLogger(
    {
      serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? "isc-trigger-responder",
      ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
      ...(options.persistentKeys === undefined ? {} : { persistentKeys: options.persistentKeys }),
    },
    options.sink,
  );
}
