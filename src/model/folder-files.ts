/**
 * Reading the files of an encoder folder with one clear `model_invalid` error each, naming the folder and
 * the file: JSON files, graph files that must be there, and the tokenizer (shared by both folder readers,
 * encoder-folder.ts and hf-encoder-folder.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SightlineError } from '../errors.js';
import { TextTokenizer } from './tokenizer.js';

/** How errors name the folder: "encoder folder X" (search) or "retrieval model folder X" (eval). */
export type Invalid = (dir: string, what: string, cause?: unknown) => SightlineError;

export const invalidAs =
  (label: string): Invalid =>
  (dir, what, cause) =>
    new SightlineError('model_invalid', `${label} ${dir}: ${what}`, { cause });

export const invalid = invalidAs('encoder folder');

export function readJson(dir: string, file: string, bad: Invalid = invalid): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8'));
  } catch (err) {
    throw bad(dir, `${file} is missing or not valid JSON (${(err as Error).message.split('\n')[0]})`, err);
  }
}

/** A JSON object file that may be absent ({} then); present but broken is an error. */
export function readOptionalJson(dir: string, file: string, bad: Invalid = invalid): Record<string, unknown> {
  if (!existsSync(join(dir, file))) return {};
  const raw = readJson(dir, file, bad);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(dir, `${file} is not a JSON object`);
  return raw as Record<string, unknown>;
}

export function requireFile(dir: string, file: string, bad: Invalid = invalid): string {
  const path = join(dir, file);
  if (!existsSync(path) || statSync(path).size < 16) throw bad(dir, `${file} is missing or empty`);
  return path;
}

export function tokenizerOf(dir: string, file: string, bad: Invalid = invalid): { json: object; tokenizer: TextTokenizer } {
  const json = readJson(dir, file, bad) as object;
  try {
    return { json, tokenizer: new TextTokenizer(json) };
  } catch (err) {
    throw bad(dir, `${file} cannot be read by tokenizers.js (${(err as Error).message})`, err);
  }
}
