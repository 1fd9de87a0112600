// Error message → template: the variable parts of a message (ids, numbers, addresses, paths)
// become placeholders so that "timeout after 3012 ms" and "timeout after 4410 ms" group
// together. Order matters: the most specific shapes are replaced first (a UUID contains hex
// and digits; an email contains a dotted host; a path may contain numbers).
// Stack traces: only the first line (the message) and the first `at` frame are kept, with
// line:column numbers removed, so the same throw site groups regardless of call depth.

const MAX_INPUT = 4096; // bounded work per message
const MAX_TEMPLATE = 300;

const RULES: Array<[RegExp, string]> = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, '<email>'],
  [/\bhttps?:\/\/[^\s'"]+/gi, '<url>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  [/(?<![\w.])(?:\/[\w.@-]+){2,}\/?/g, '<path>'],
  [/(?:[A-Za-z]:)?(?:\\[\w.@-]+){2,}\\?/g, '<path>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\b[0-9a-f]{16,}\b/gi, '<hex>'],
  [/(?<![\w<])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w>])/gi, '<num>'],
  [/(?<=[A-Za-z_:=#-])\d+\b/g, '<num>'],
];

export function errorTemplate(message: string): string {
  let text = message.length > MAX_INPUT ? message.slice(0, MAX_INPUT) : message;
  const lines = text.split('\n');
  if (lines.length > 1) {
    const frame = lines.find((l) => /^\s*at\s/.test(l));
    text = frame ? `${lines[0]!} ${frame.trim().replace(/:\d+(?::\d+)?(\)?)$/, '$1')}` : lines[0]!;
  }
  for (const [re, placeholder] of RULES) text = text.replace(re, placeholder);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_TEMPLATE ? `${text.slice(0, MAX_TEMPLATE)}…` : text;
}
