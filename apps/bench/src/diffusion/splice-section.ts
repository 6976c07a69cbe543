/**
 * Puts `section` (a markdown text starting with its own `## ` heading) into `doc` in place of the
 * section with the same heading, which ends at the next `## ` heading; a document without one
 * gets it before the first heading of `before` that exists, else at the end. Every other section
 * is kept byte for byte, so `bench:diffusion` can refresh its numbers without re-running the GAN
 * benchmark.
 */
export function spliceSection(doc: string, section: string, before: readonly string[] = []): string {
  const heading = section.split('\n', 1)[0]!.trim();
  const body = section.trimEnd() + '\n\n';
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const rest = lines.slice(end).join('\n');
    return lines.slice(0, start).join('\n') + (start > 0 ? '\n' : '') + body + rest;
  }
  for (const h of before) {
    const at = lines.findIndex((l) => l.trim() === h);
    if (at >= 0) return lines.slice(0, at).join('\n') + (at > 0 ? '\n' : '') + body + lines.slice(at).join('\n');
  }
  return doc.trimEnd() + '\n\n' + body;
}
