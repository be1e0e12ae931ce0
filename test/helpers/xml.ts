// Reading the JUnit XML that `sshtrace check` writes, without an XML library.
import assert from "node:assert/strict";

/** Minimal XML reader: returns [tag, attributes] of every start or empty element, in order. */
export function xmlElements(
  xml: string,
): { tag: string; attrs: Record<string, string>; text: string }[] {
  const out: { tag: string; attrs: Record<string, string>; text: string }[] = [];
  const decode = (s: string) => {
    assert.doesNotMatch(s, /&(?!amp;|lt;|gt;|quot;|apos;)/, `bad entity in ${s}`);
    assert.doesNotMatch(s, /</, `raw < in ${s}`);
    return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  };
  const re = /<([A-Za-z-]+)((?:\s+[A-Za-z-]+="[^"]*")*)\s*(\/?)>([^<]*)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\n/, "");
  while ((m = re.exec(body))) {
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([A-Za-z-]+)="([^"]*)"/g)) attrs[a[1]!] = decode(a[2]!);
    out.push({ tag: m[1]!, attrs, text: decode(m[4]!) });
    consumed++;
  }
  // Every '<' is a well-formed start, empty or end tag.
  const tags = body.match(/<[^>]*>/g) ?? [];
  const ends = tags.filter((t) => t.startsWith("</")).length;
  assert.equal(consumed + ends, tags.length, "every tag parsed");
  assert.equal((body.match(/</g) ?? []).length, tags.length, "no stray <");
  return out;
}
