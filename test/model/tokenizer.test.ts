import { describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';

describe('TextTokenizer', () => {
  it('decodes an empty id list (a turn that ends at once) to the empty string', () => {
    const folder = loadModelFolder('test/fixtures/models/tiny-random-1l');
    const tok = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    expect(tok.decode([])).toBe('');
    expect(tok.decode(tok.encode('goal'))).toBe('goal');
  });
});
