/**
 * Fills the README's option tables from the doc comments of the public options types, so the
 * tables and the types never drift apart. A table is a marker pair in README.md:
 *
 *   <!-- options: ConnectOptions -->
 *   (generated)
 *   <!-- /options -->
 *
 *   npx tsx scripts/readme-options.ts           # rewrites README.md
 *   npx tsx scripts/readme-options.ts --check   # exits 1 if README.md is not up to date (CI, tests)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The public entries, as the API reference lists them. */
const ENTRIES = (JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] }).entryPoints.map((f) => join(root, f));
/** Interfaces whose fields every call takes: listed once in the README (Connecting), not in each table. */
const PER_CALL_INTERFACES = new Set(['RequestOptions', 'NamespaceOption']);
/** Interfaces with a table of their own (a README section): left out of the tables of types that extend them. */
const OWN_TABLE_INTERFACES = new Set(['ServerSecurityOptions', 'ServerLimitOptions']);
/** Fields for tests only (virtual-time schedulers). */
const HIDDEN_FIELDS = new Set(['scheduler']);
const MARKER = /<!-- options: (\w+)(?: (all))? -->\n[\s\S]*?<!-- \/options -->/g;

/** The exported types of the public entries, by name. */
function exportedTypes(): { checker: ts.TypeChecker; types: Map<string, ts.Symbol> } {
  const program = ts.createProgram(ENTRIES, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const types = new Map<string, ts.Symbol>();
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!);
    for (const sym of module ? checker.getExportsOfModule(module) : []) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      if (target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) types.set(sym.name, target);
    }
  }
  return { checker, types };
}

/** Doc text as one table cell: one line, internal references dropped, pipes escaped. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    // Protocol-decision references (docs/protocol-decisions.md) are for readers of the code; the
    // README's "Differences from Flo" section says what they mean for users.
    .replace(/\s*\((?:see )?`?docs\/protocol-decisions\.md`?\s*#[^()]*\)/g, '')
    .replace(/[:;,]?\s*(?:see )?`?docs\/protocol-decisions\.md`?\s*#\d+(?:\s*(?:[/,]|-|–)\s*#?\d+)*/g, '')
    .replace(/\|/g, '\\|')
    .trim();
}

function table(name: string, all: boolean, env: ReturnType<typeof exportedTypes>): string {
  const sym = env.types.get(name);
  if (!sym) throw new Error(`README option table: ${name} is not an exported type of the public entries`);
  const type = env.checker.getDeclaredTypeOfSymbol(sym);
  const rows: string[] = [];
  for (const prop of env.checker.getPropertiesOfType(type)) {
    if (HIDDEN_FIELDS.has(prop.name) || prop.getJsDocTags(env.checker).some((t) => t.name === 'internal')) continue;
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (!decl) continue;
    const owner = ts.isInterfaceDeclaration(decl.parent) ? decl.parent.name.text : '';
    if (!all && PER_CALL_INTERFACES.has(owner)) continue;
    if (OWN_TABLE_INTERFACES.has(owner) && owner !== name) continue;
    const declared = env.checker.getTypeOfSymbolAtLocation(prop, decl);
    // `x?: T` reads as `T | undefined`: the table shows `T`.
    const propType = prop.flags & ts.SymbolFlags.Optional ? env.checker.getNonNullableType(declared) : declared;
    const typeText = env.checker.typeToString(propType, undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType);
    const doc = cell(ts.displayPartsToString(prop.getDocumentationComment(env.checker)));
    if (!doc) missing.push(`${name}.${prop.name}`);
    rows.push(`| \`${prop.name}\` | \`${cell(typeText)}\` | ${doc} |`);
  }
  if (rows.length === 0) return `<!-- options: ${name}${all ? ' all' : ''} -->\n<!-- /options -->`;
  return [`<!-- options: ${name}${all ? ' all' : ''} -->`, '| option | type | meaning |', '| --- | --- | --- |', ...rows, '<!-- /options -->'].join('\n');
}

const missing: string[] = [];

/** README.md with every option table regenerated (throws if an option has no doc comment). */
export function renderReadme(text: string): string {
  const env = exportedTypes();
  missing.length = 0;
  const out = text.replace(MARKER, (_m, name: string, all: string | undefined) => table(name, all === 'all', env));
  if (missing.length > 0) throw new Error(`README option tables: no doc comment on ${missing.join(', ')}`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = join(root, 'README.md');
  const current = readFileSync(path, 'utf8');
  const next = renderReadme(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md option tables are out of date: run `npm run docs:readme`');
      process.exit(1);
    }
    console.log('README.md option tables are up to date');
  } else {
    writeFileSync(path, next);
    console.log('README.md option tables written');
  }
}
