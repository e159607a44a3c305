import * as path from 'node:path';
import * as ts from 'typescript';

/*
 * Extracts the TypeScript blocks of a Markdown document and type-checks them, each as a module of
 * its own, in one TypeScript program, against steadfast's source.
 *
 * A block may be preceded (on the lines right above its fence) by HTML comments that the reader
 * does not see:
 *   <!-- snippet-prelude: interface Invoice { id: string } -->   code the block assumes, prepended
 *   <!-- snippet: not-compiled (a list of signatures) -->        not code to compile, and why
 */

const root = path.resolve(__dirname, '../..');

/** One TypeScript block of a document, with the prelude its comments give it. */
export interface Snippet {
  /** the document's name, as failures report it */
  readonly source: string;
  /** 1-based line of the opening fence */
  readonly fenceLine: number;
  readonly prelude: string;
  readonly code: string;
}

export interface SkippedSnippet {
  readonly source: string;
  readonly fenceLine: number;
  readonly reason: string;
}

export interface Extraction {
  readonly compiled: Snippet[];
  readonly skipped: SkippedSnippet[];
  /** misplaced or malformed snippet comments, each naming its line */
  readonly problems: string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const TS_LANGUAGES = new Set(['ts', 'typescript', 'mts', 'cts']);
const PRELUDE = /^<!--\s*snippet-prelude:([\s\S]*)-->$/;
const NOT_COMPILED = /^<!--\s*snippet:\s*not-compiled\s*\(([^)]*)\)\s*-->$/;

interface Directive {
  readonly line: number;
  readonly prelude?: string;
  readonly notCompiled?: string;
}

/** The TypeScript blocks of `markdown`, what their comments say of them, and misplaced comments. */
export function extractSnippets(markdown: string, source: string): Extraction {
  const lines = markdown.split(/\r?\n/);
  const compiled: Snippet[] = [];
  const skipped: SkippedSnippet[] = [];
  const problems: string[] = [];
  let pending: Directive[] = [];
  const unattached = (): void => {
    for (const directive of pending)
      problems.push(
        `${source}:${directive.line}: a snippet comment must be right above a \`\`\`ts block`,
      );
    pending = [];
  };

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const fence = FENCE.exec(line);
    if (fence !== null) {
      const [, indent = '', marker = '```', language = ''] = fence;
      const closing = new RegExp(`^\\s*${marker[0]}{${marker.length},}\\s*$`);
      let end = index + 1;
      while (end < lines.length && !closing.test(lines[end] ?? '')) end++;
      const body = lines.slice(index + 1, end).map((text) => stripIndent(text, indent.length));
      if (TS_LANGUAGES.has(language.toLowerCase())) {
        attach(pending, { source, fenceLine: index + 1, code: body.join('\n') });
        pending = [];
      } else {
        unattached();
      }
      index = end;
      continue;
    }
    if (line.trimStart().startsWith('<!--')) {
      let end = index;
      while (end < lines.length && !(lines[end] ?? '').includes('-->')) end++;
      const comment = lines
        .slice(index, end + 1)
        .join('\n')
        .trim();
      if (/^<!--\s*snippet/.test(comment)) {
        const directive = parseDirective(comment, index + 1);
        if (typeof directive === 'string') problems.push(`${source}:${index + 1}: ${directive}`);
        else pending.push(directive);
        index = end;
        continue;
      }
    }
    unattached();
  }
  unattached();
  return { compiled, skipped, problems };

  function attach(directives: readonly Directive[], block: Omit<Snippet, 'prelude'>): void {
    const notCompiled = directives.filter((directive) => directive.notCompiled !== undefined);
    const preludes = directives.filter((directive) => directive.prelude !== undefined);
    if (notCompiled.length > 0 && preludes.length > 0) {
      problems.push(
        `${source}:${block.fenceLine}: a block is either not compiled or given a prelude, not both`,
      );
    }
    if (notCompiled.length > 0) {
      skipped.push({
        source,
        fenceLine: block.fenceLine,
        reason: notCompiled.map((d) => d.notCompiled).join('; '),
      });
      return;
    }
    compiled.push({ ...block, prelude: preludes.map((d) => d.prelude).join('\n') });
  }
}

function stripIndent(text: string, width: number): string {
  let strip = 0;
  while (strip < width && text[strip] === ' ') strip++;
  return text.slice(strip);
}

function parseDirective(comment: string, line: number): Directive | string {
  const prelude = PRELUDE.exec(comment);
  if (prelude !== null) {
    const code = (prelude[1] ?? '').trim();
    return code === '' ? 'an empty snippet-prelude' : { line, prelude: code };
  }
  const notCompiled = NOT_COMPILED.exec(comment);
  if (notCompiled !== null) {
    const reason = (notCompiled[1] ?? '').trim();
    return reason === ''
      ? 'snippet: not-compiled needs a reason in parentheses'
      : { line, notCompiled: reason };
  }
  return `unknown snippet comment (known: "snippet-prelude: …", "snippet: not-compiled (reason)"): ${comment}`;
}

/**
 * How the blocks are compiled: legacy decorators with emitDecoratorMetadata, as NestJS applications
 * are, strict, with steadfast's entry points mapped to its source. Every file is a module, so blocks
 * never see each other's declarations; ES2022 modules, so a block may `await` at its top level.
 */
export function snippetCompilerOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2022.d.ts'],
    types: ['node', 'jest'],
    typeRoots: [path.join(root, 'node_modules/@types')],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    useDefineForClassFields: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    // Absolute targets: no baseUrl, so a block cannot import the repository's files by bare path.
    paths: {
      steadfast: [path.join(root, 'src/index.ts')],
      'steadfast/nestjs': [path.join(root, 'src/nestjs/index.ts')],
      'steadfast/opentelemetry': [path.join(root, 'src/opentelemetry/index.ts')],
      'steadfast/redis': [path.join(root, 'src/redis/index.ts')],
      'steadfast/testing': [path.join(root, 'src/testing/index.ts')],
      // Packages the README's NestJS blocks import that this repository does not install: their
      // declarations, reduced to what the blocks use (each stub says where it is taken from).
      '@nestjs/config': [path.join(root, 'test/readme/stubs/nestjs-config.d.ts')],
      '@nestjs/terminus': [path.join(root, 'test/readme/stubs/nestjs-terminus.d.ts')],
    },
  };
}

/** The file name a snippet is compiled under (never written). */
export function snippetFileName(snippet: Snippet): string {
  const name = snippet.source.replace(/[^\w.-]/g, '_');
  return path.join(root, 'test/readme/.snippets', `${name}-line-${snippet.fenceLine}.ts`);
}

export interface SnippetCheck {
  /** errors of the program as a whole (options, global types) */
  readonly programWide: string[];
  /** each snippet's errors, each naming the document line it is on (or the block's prelude) */
  readonly bySnippet: Map<Snippet, string[]>;
}

/** Type-checks every snippet in one program. */
export function checkSnippets(snippets: readonly Snippet[]): SnippetCheck {
  const options = snippetCompilerOptions();
  const files = new Map<string, { snippet: Snippet; text: string; preludeLines: number }>();
  for (const snippet of snippets) {
    const preludeLines = snippet.prelude === '' ? 0 : snippet.prelude.split('\n').length;
    const text = preludeLines === 0 ? snippet.code : `${snippet.prelude}\n${snippet.code}`;
    files.set(snippetFileName(snippet), { snippet, text, preludeLines });
  }

  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const file = files.get(path.resolve(fileName));
    return file === undefined
      ? getSourceFile(fileName, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(fileName, file.text, languageVersion, true, ts.ScriptKind.TS);
  };
  host.fileExists = (fileName) => files.has(path.resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => files.get(path.resolve(fileName))?.text ?? readFile(fileName);

  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const programWide = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map(
    (diagnostic) =>
      `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
  );
  const bySnippet = new Map<Snippet, string[]>();
  for (const [fileName, { snippet, preludeLines }] of files) {
    const sourceFile = program.getSourceFile(fileName)!;
    const diagnostics = [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ];
    bySnippet.set(
      snippet,
      diagnostics.map((diagnostic) => formatDiagnostic(diagnostic, snippet, preludeLines)),
    );
  }
  return { programWide, bySnippet };
}

function formatDiagnostic(
  diagnostic: ts.Diagnostic,
  snippet: Snippet,
  preludeLines: number,
): string {
  const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const file = path.resolve(diagnostic.file.fileName);
  if (file !== snippetFileName(snippet)) {
    return `${path.relative(root, file)}:${line + 1} (reached from ${snippet.source}:${snippet.fenceLine}): ${message}`;
  }
  return line < preludeLines
    ? `${snippet.source}:${snippet.fenceLine} (its prelude, line ${line + 1}): ${message}`
    : `${snippet.source}:${snippet.fenceLine + 1 + line - preludeLines}: ${message}`;
}
