import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page as it is now: the WCAG 2.x A/AA rules and axe's
 * best practices (landmarks, one h1, heading order, skip link target).
 * The page's CSP forbids inline scripts, so the context must be opened with
 * `bypassCSP: true` for the injection to run.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } };
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** One line per violation and node, readable in a jest failure message. */
export function describeViolations(label: string, violations: AxeViolation[]): string {
  if (violations.length === 0) return `${label}: no violations`;
  return [
    `${label}: ${violations.length} axe violation(s)`,
    ...violations.flatMap((v) => [
      `  - ${v.id} (${v.impact ?? 'n/a'}): ${v.help}`,
      ...v.nodes.map((n) => `      at ${JSON.stringify(n.target)}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`),
    ]),
  ].join('\n');
}
