/**
 * PowerShell cannot be installed here, so its code is judged two ways:
 * - parsed with a real PowerShell grammar (tree-sitter-powershell's wasm through web-tree-sitter),
 *   which must find no error and no missing node;
 * - every single-quoted string the grammar found is read again by PowerShell's own tokenizer rules
 *   (ScanStringLiteral in PowerShell's tokenizer.cs): the grammar only knows the ASCII quote, while
 *   PowerShell also ends a string at U+2018, U+2019, U+201A and U+201B. A string PowerShell would
 *   end earlier than the grammar is exactly an injection, so `decodeVerbatim` must consume the whole
 *   literal the grammar saw.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

let parser: Parser | undefined;

/** The parser, loaded once. */
export async function powershellParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export async function parse(code: string): Promise<Tree> {
  const tree = (await powershellParser()).parse(code);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** Every node below (and including) `node`, depth first, in source order. */
export function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) if (child) yield* walk(child);
}

/** Error and missing nodes, described with their position and text, for a readable failure. */
export function problems(tree: Tree): string[] {
  const found: string[] = [];
  for (const node of walk(tree.rootNode)) {
    if (node.isError || node.isMissing) {
      const at = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      found.push(
        `${node.isMissing ? 'MISSING' : 'ERROR'} at ${at}: ${JSON.stringify(node.text.slice(0, 80))}`,
      );
    }
  }
  if (tree.rootNode.hasError && found.length === 0) found.push('the tree says it has an error');
  return found;
}

/** PowerShell's single quotes: the ASCII one and the four typographic ones its tokenizer accepts. */
export const POWERSHELL_SINGLE_QUOTES = new Set(["'", '\u2018', '\u2019', '\u201A', '\u201B']);
const isQuote = (c: string | undefined) => c !== undefined && POWERSHELL_SINGLE_QUOTES.has(c);

/**
 * Read a verbatim string the way PowerShell's tokenizer does: from an opening single quote, a quote
 * followed by another quote stands for the second one; any other quote closes the string. Returns
 * the value and how many UTF-16 units the literal took.
 */
export function decodeVerbatim(text: string): { value: string; length: number } {
  if (!isQuote(text[0])) throw new Error(`not a single-quoted string: ${JSON.stringify(text.slice(0, 40))}`);
  let value = '';
  let i = 1;
  for (;;) {
    if (i >= text.length) throw new Error(`unterminated string: ${JSON.stringify(text.slice(0, 40))}`);
    const c = text[i]!;
    if (isQuote(c)) {
      if (!isQuote(text[i + 1])) return { value, length: i + 1 };
      value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
}

/** The value of a string literal the grammar found, requiring PowerShell to end it at the same place. */
export function literalValue(node: Node): string {
  const leaf = node.type === 'string_literal' ? node.namedChildren[0] : node;
  if (!leaf || leaf.type !== 'verbatim_string_characters') {
    throw new Error(`expected a single-quoted string, found ${leaf?.type}: ${JSON.stringify(node.text)}`);
  }
  const { value, length } = decodeVerbatim(leaf.text);
  if (length !== leaf.text.length) {
    throw new Error(
      `PowerShell ends this string after ${length} of ${leaf.text.length} characters: ` +
        JSON.stringify(leaf.text.slice(0, 120)),
    );
  }
  return value;
}

/**
 * The checks every generated script must pass: no error or missing node; every single-quoted string
 * ends where PowerShell ends it; and no double-quoted or here-string anywhere, since those expand
 * `$…` and backticks and must never carry a value.
 */
export async function checkScript(code: string): Promise<Tree> {
  const tree = await parse(code);
  const errors = problems(tree);
  if (errors.length) throw new Error(`parse errors:\n${errors.join('\n')}\n--- script ---\n${code}`);
  for (const node of walk(tree.rootNode)) {
    if (
      [
        'expandable_string_literal',
        'expandable_here_string_literal',
        'verbatim_here_string_characters',
      ].includes(node.type)
    ) {
      throw new Error(`unexpected ${node.type}: ${JSON.stringify(node.text.slice(0, 80))}`);
    }
    if (node.type === 'verbatim_string_characters') literalValue(node);
  }
  return tree;
}

/** Follow single-named-child chains (the grammar's precedence levels) down to the node that matters. */
export function unwrap(node: Node): Node {
  let n = node;
  while (n.namedChildCount === 1 && n.type !== 'string_literal') n = n.namedChildren[0]!;
  return n;
}

export interface EnvCall {
  name: string;
  /** undefined: `[NullString]::Value` (unset); string[]: a PATH list joined with the platform separator. */
  value: string | string[] | undefined;
}

/**
 * The `[System.Environment]::SetEnvironmentVariable(NAME, VALUE)` statements at the top level of a
 * rendered change, decoded. Anything else there (but `if`s and function definitions) is an error.
 */
export function envCalls(tree: Tree): EnvCall[] {
  const calls: EnvCall[] = [];
  const list = tree.rootNode.namedChildren.find((n) => n?.type === 'statement_list');
  for (const statement of list?.namedChildren ?? []) {
    // The prompt's and the commands' `if`s, and the commands' functions (deactivate, pydoc).
    if (!statement || statement.type === 'if_statement' || statement.type === 'function_statement') continue;
    const call = unwrap(statement);
    const [type, member, args] = call.namedChildren;
    if (
      call.type !== 'invokation_expression' ||
      type?.text !== '[System.Environment]' ||
      member?.text !== 'SetEnvironmentVariable' ||
      !args
    ) {
      throw new Error(`unexpected statement: ${JSON.stringify(statement.text.slice(0, 120))}`);
    }
    const argList = unwrap(args);
    const [first, second, ...rest] = argList.namedChildren;
    if (argList.type !== 'argument_expression_list' || !first || !second || rest.length) {
      throw new Error(`expected two arguments: ${JSON.stringify(args.text.slice(0, 120))}`);
    }
    calls.push({ name: literalValue(unwrap(first)), value: argumentValue(unwrap(second)) });
  }
  return calls;
}

function argumentValue(node: Node): string | string[] | undefined {
  if (node.type === 'string_literal') return literalValue(node);
  if (node.type === 'member_access' && node.text === '[NullString]::Value') return undefined;
  // (@('a', 'b') -join [System.IO.Path]::PathSeparator)
  const [array, operator, separator] = node.namedChildren;
  if (
    node.type === 'comparison_expression' &&
    operator?.text === '-join' &&
    separator &&
    unwrap(separator).text === '[System.IO.Path]::PathSeparator' &&
    array
  ) {
    return listValues(unwrap(array));
  }
  throw new Error(`unexpected value expression ${node.type}: ${JSON.stringify(node.text.slice(0, 120))}`);
}

/** The strings of `@('a')` or `@('a', 'b', …)`. */
function listValues(node: Node): string[] {
  if (node.type === 'string_literal') return [literalValue(node)];
  if (node.type === 'array_literal_expression')
    return node.namedChildren.map((n) => literalValue(unwrap(n!)));
  throw new Error(`unexpected list ${node.type}: ${JSON.stringify(node.text.slice(0, 120))}`);
}
