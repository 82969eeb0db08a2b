// Placeholder: the SQS worker lands with the handlers work.
export const handler = async () => ({ batchItemFailures: [] });
