import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reading e-mail the servers sent: scripts/test.sh starts a real SMTP server
 * (aiosmtpd, scripts/smtp_sink.py) that stores each message as one .eml file in
 * E2E_MAIL_DIR, and points both servers at it.
 */

/** A received message, decoded. */
export interface Mail {
  subject: string;
  /** The plain-text body, decoded (quoted-printable, base64), `\n` line ends. */
  text: string;
  /** The first http(s) link in the text, or null. */
  link: string | null;
}

const TIMEOUT_MS = 10_000;

function mailDir(): string {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error('E2E_MAIL_DIR is not set: run the tests through scripts/test.sh, which starts the SMTP sink');
  return dir;
}

/** Decodes RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?utf-8?Q?…?=`) in a header. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    const hex = src.slice(i + 1, i + 3);
    if (src[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(src[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses a single-part plain-text message: unfolded headers (lower-case names) and body. */
export function parseEml(raw: string): { headers: Map<string, string>; subject: string; text: string } {
  const normalized = raw.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = split < 0 ? normalized : normalized.slice(0, split);
  const body = split < 0 ? '' : normalized.slice(split + 2);
  const headers = new Map<string, string>();
  let last = '';
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
    }
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  let text: string;
  if (encoding === 'quoted-printable') text = decodeQuotedPrintable(body);
  else if (encoding === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  else text = body;
  return { headers, subject: decodeHeader(headers.get('subject') ?? ''), text: text.replace(/\r\n/g, '\n') };
}

function matching(to: string, subject?: RegExp): Mail | null {
  return allMail(to, subject)[0] ?? null;
}

/** Every e-mail received so far to `to` (subject matching, when given), newest first. */
export function allMail(to: string, subject?: RegExp): Mail[] {
  const dir = mailDir();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  const found: Mail[] = [];
  // Names start with the arrival time in nanoseconds: newest last.
  files.sort((a, b) => a.length - b.length || a.localeCompare(b));
  for (const file of files.reverse()) {
    const mail = parseEml(readFileSync(join(dir, file), 'utf8'));
    const recipients = decodeHeader(mail.headers.get('to') ?? '').toLowerCase();
    if (!recipients.includes(to.toLowerCase())) continue;
    if (subject && !subject.test(mail.subject)) continue;
    const link = mail.text.match(/https?:\/\/[^\s<>"]+/);
    found.push({ subject: mail.subject, text: mail.text, link: link ? link[0] : null });
  }
  return found;
}

/**
 * Waits (about 10 s at most) for an e-mail to `to` whose subject matches `subject`
 * (any subject when omitted) and returns the newest such message.
 */
export async function waitForMail(to: string, subject?: RegExp): Promise<Mail> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const found = matching(to, subject);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no e-mail to ${to}${subject ? ` with a subject matching ${subject}` : ''} arrived in ${mailDir()} within ${TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
