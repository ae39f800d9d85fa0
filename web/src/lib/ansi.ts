// Task output is shown as text, never markup: React escapes it, and this removes what a terminal
// would interpret — ANSI colour and cursor sequences, OSC titles and links, other control
// characters — so neither `<script>` nor `\x1b]8;;…` can do anything in the page.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls but tab and newline, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function plainText(output: string): string {
  return output.replace(ESCAPES, '').replace(/\r\n/g, '\n').replace(CONTROLS, '');
}
