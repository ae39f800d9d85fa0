// Reads a newline-delimited stream (agentd's NDJSON answer to POST /v1/exec) line by line, as the
// bytes arrive. hostd's relay and opsctl's direct mode both read agentd's runs with it. A consumer
// that awaits between lines holds the stream back, which is how a slow download pushes back on agentd.
import { StringDecoder } from 'node:string_decoder';

/** Lines longer than this are refused: agentd's events are far smaller (an output chunk is 16 KiB). */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** Yields each line without its "\n"; blank lines are skipped; the last line may lack its "\n". */
export async function* readLines(stream: AsyncIterable<Buffer | string>, maxLineChars = MAX_LINE_CHARS): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  for await (const chunk of stream) {
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) yield line;
    }
    if (buffer.length > maxLineChars) throw new Error(`agentd sent a line longer than ${Math.round(maxLineChars / 1024 / 1024)} MiB`);
  }
  buffer += decoder.end();
  if (buffer.trim()) yield buffer;
}
