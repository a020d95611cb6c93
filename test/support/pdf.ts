import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const standardFonts = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';

/** A PDF read back with Mozilla's pdf.js: each page's size in points and its text. */
export async function readPdf(data: Uint8Array): Promise<Array<{ width: number; height: number; text: string }>> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await pdfjs.getDocument({ data: new Uint8Array(data), standardFontDataUrl: standardFonts, verbosity: 0 }).promise;
  const pages = [];
  for (let n = 1; n <= document.numPages; n++) {
    const page = await document.getPage(n);
    const { width, height } = page.getViewport({ scale: 1 });
    const content = await page.getTextContent();
    pages.push({ width, height, text: content.items.map((item) => ('str' in item ? item.str : '')).join(' ').replace(/\s+/g, ' ') });
  }
  await document.destroy();
  return pages;
}
