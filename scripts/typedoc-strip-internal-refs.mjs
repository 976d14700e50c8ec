// TypeDoc plugin: drops references to design records users do not have (the maintainers' internal
// notes), should one slip into a doc comment, so the API reference only names things users have.
// References to `docs/protocol-decisions.md` are kept: that file is part of the repository.
import { Converter, PageEvent } from 'typedoc';

const RULES = [
  [/\s*\((?:see )?(?:DECISIONS|protocol-(?:core-kv|queues-streams|actions-workflows)\.md)[^()]*\)/g, ''],
  [/[:;,]?\s*(?:see )?DECISIONS(?:\.md)?\s*#\d+(?:\s*[/,]\s*#?\d+)*/g, ''],
  [/[:;,]?\s*(?:see )?protocol-(?:core-kv|queues-streams|actions-workflows)\.md(?:\s*(?:section|§)\s*[\d.]+)?/g, ''],
];

const clean = (text) => RULES.reduce((t, [re, by]) => t.replace(re, by), text);

function cleanComment(comment) {
  if (!comment) return;
  for (const part of comment.summary) if (part.kind === 'text' || part.kind === 'code') part.text = clean(part.text);
  for (const tag of comment.blockTags) for (const part of tag.content) if (part.kind === 'text' || part.kind === 'code') part.text = clean(part.text);
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of Object.values(context.project.reflections)) {
      cleanComment(reflection.comment);
      for (const signature of reflection.signatures ?? []) cleanComment(signature.comment);
    }
  });
  // Comments the converter keeps elsewhere (members of inline object types) are cleaned on the page.
  app.renderer.on(PageEvent.END, (page) => {
    if (page.contents) page.contents = clean(page.contents);
  });
}
