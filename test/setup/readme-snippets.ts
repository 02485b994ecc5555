import { readFileSync } from 'node:fs';

/** A fenced code block of a Markdown file, with its info string (`sh`, `js`, ...). */
export interface CodeBlock {
  readonly lang: string;
  readonly code: string;
}

/** The fenced code blocks under the heading `heading` (exact text, any level), up to the next heading of that level or higher. */
export function codeBlocksUnder(markdown: string, heading: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const blocks: CodeBlock[] = [];
  // A fence may be indented (a block inside a list item): its indentation is removed from its lines.
  let open: { lang: string; indent: string; lines: string[] } | undefined;
  for (const line of lines.slice(start + 1)) {
    if (open === undefined) {
      const heading = /^(#+) /.exec(line);
      if (heading && heading[1]!.length <= level) break;
      const fence = /^( *)```(\w*)\s*$/.exec(line);
      if (fence) open = { lang: fence[2]!, indent: fence[1]!, lines: [] };
    } else if (line.trimStart().startsWith('```')) {
      blocks.push({ lang: open.lang, code: open.lines.join('\n') + '\n' });
      open = undefined;
    } else {
      open.lines.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
    }
  }
  return blocks;
}

/** One shell command line: leading `NAME=value` assignments, the program, its arguments. */
export interface Command {
  readonly env: Record<string, string>;
  readonly program: string;
  readonly args: string[];
}

/** Splits a simple command line (no quotes, no pipes; a `#` starts a comment). */
export function parseCommand(line: string): Command {
  const words = line
    .replace(/\s#.*$/, '')
    .trim()
    .split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const word = words.shift()!;
    env[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
  }
  const [program, ...args] = words;
  if (program === undefined) throw new Error(`no command in ${JSON.stringify(line)}`);
  return { env, program, args };
}

/** The README's quick start for one OpenTelemetry JS line, as written. */
export interface QuickStart {
  /** The `npm install` command. */
  readonly install: Command;
  /** instrumentation.js. */
  readonly instrumentation: string;
  /** The command that runs the application. */
  readonly run: Command;
}

/** The variant's install line and file from `variantPath` (the README by default); the run command is the README's. */
export function readQuickStart(readmePath: string, variantHeading: string, variantPath: string = readmePath): QuickStart {
  const markdown = readFileSync(readmePath, 'utf8');
  const blocks = codeBlocksUnder(readFileSync(variantPath, 'utf8'), variantHeading);
  const installLine = blocks
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.code.split('\n'))
    .find((l) => l.startsWith('npm install '));
  const instrumentation = blocks.find((b) => b.lang === 'js' && b.code.startsWith('// instrumentation.js'));
  const runLine = codeBlocksUnder(markdown, 'Run it')
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.code.split('\n'))
    .find((l) => / node /.test(` ${l} `));
  if (installLine === undefined || instrumentation === undefined || runLine === undefined) {
    throw new Error(`${variantPath} "${variantHeading}" lacks an npm install line, an instrumentation.js block or a run command`);
  }
  return { install: parseCommand(installLine), instrumentation: instrumentation.code, run: parseCommand(runLine) };
}
