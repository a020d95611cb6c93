import PDFDocument from 'pdfkit';
import type { Account } from '../accounts/account.js';
import { t } from '../i18n/index.js';
import type { IdentityDocument } from './document.js';

const DAY = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', day: '2-digit', month: '2-digit', year: 'numeric' });
const italianDay = (iso: string) => iso.split('-').reverse().join('/');

export interface ApplicationFormData {
  serviceName: string;
  number: string;
  requestedAt: Date;
  account: Pick<Account, 'givenName' | 'familyName' | 'fiscalCode' | 'birthDate' | 'birthPlace' | 'username' | 'mobilePhone'>;
  email: string | null;
  document: IdentityDocument;
}

/**
 * The modulo di adesione (DOMAIN.md §7): an A4 PDF with the person's data, the request number
 * and date, the identity document declared, the declaration, and the boxes for the person's
 * signature and the school's or office's identification. Standard fonts, so its text can be
 * read back (and searched) by any PDF reader.
 */
export function applicationFormPdf(data: ApplicationFormData): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: t('enablement.pdf.title', { service: data.serviceName }), Author: t('app.owner') } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const a = data.account;
  doc.font('Helvetica').fontSize(9).fillColor('#333').text(t('app.owner'));
  doc.moveDown(0.5).font('Helvetica-Bold').fontSize(16).fillColor('#000').text(t('enablement.pdf.title', { service: data.serviceName }));
  doc.moveDown(0.3).font('Helvetica').fontSize(11)
    .text(t('enablement.pdf.number', { number: data.number, date: DAY.format(data.requestedAt) }));

  const section = (title: string, rows: Array<[string, string]>) => {
    doc.moveDown(1).font('Helvetica-Bold').fontSize(12).text(title);
    doc.moveDown(0.3).font('Helvetica').fontSize(10.5);
    for (const [label, value] of rows) doc.text(`${label}: `, { continued: true }).font('Helvetica-Bold').text(value || '—').font('Helvetica');
  };
  section(t('enablement.pdf.person'), [
    [t('enablement.pdf.name'), `${a.givenName} ${a.familyName}`],
    [t('enablement.pdf.fiscal_code'), a.fiscalCode],
    [t('enablement.pdf.birth'), `${italianDay(a.birthDate)}, ${a.birthPlace}`],
    [t('enablement.pdf.username'), a.username],
    [t('enablement.pdf.email'), data.email ?? ''],
    [t('enablement.pdf.mobile'), a.mobilePhone ?? ''],
  ]);
  section(t('enablement.pdf.document'), [
    [t('enablement.pdf.document_type'), t(`enablement.document.${data.document.type}`)],
    [t('enablement.pdf.document_number'), data.document.number],
    [t('enablement.pdf.document_issuer'), data.document.issuer],
    [t('enablement.pdf.document_expiry'), italianDay(data.document.expiry)],
  ]);
  doc.moveDown(1).font('Helvetica').fontSize(10).text(t('enablement.pdf.declaration', { service: data.serviceName }), { align: 'justify' });

  const box = (title: string, lines: string[]) => {
    doc.moveDown(1.2);
    const top = doc.y;
    const width = doc.page.width - 112;
    doc.font('Helvetica-Bold').fontSize(10.5).text(title, 64, top + 8);
    doc.font('Helvetica').fontSize(10);
    for (const line of lines) doc.moveDown(0.9).text(line, 64);
    doc.moveDown(2.2);
    doc.rect(56, top, width, doc.y - top).stroke();
    doc.x = 56;
  };
  box(t('enablement.pdf.applicant_box'), [t('enablement.pdf.place_date'), t('enablement.pdf.signature')]);
  box(t('enablement.pdf.office_box'), [t('enablement.pdf.office_where'), t('enablement.pdf.office_officer'), t('enablement.pdf.office_document'), t('enablement.pdf.signature')]);
  doc.end();
  return done;
}
