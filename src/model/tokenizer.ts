import { Tokenizer } from '@huggingface/tokenizers';

/** The model's tokenizer.json read with Hugging Face's tokenizers.js; `encode` never adds BOS/EOS. */
export class TextTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(tokenizerJson: object, tokenizerConfig: object = {}) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Ids with the tokenizer's own post-processor applied (e.g. CLIP's start/end of text tokens). */
  encodeWithSpecialTokens(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: true }).ids;
  }

  decode(ids: number[]): string {
    // tokenizers.js throws on an empty list; a turn that ends at once (end of turn first) says nothing.
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** Id of a token that must be exactly one token (end of turn, silence); undefined if it is not. */
  singleTokenId(text: string): number | undefined {
    const ids = this.encode(text);
    return ids.length === 1 ? ids[0] : undefined;
  }
}
