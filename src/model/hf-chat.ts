/**
 * A Hugging Face chat template turned into the streaming round layout (docs/byo-models.md). The template is
 * rendered with marker strings and cut at them, so the system turn, a second's user turn around its frames,
 * the assistant's prefix and the end of a turn all come from the model's own template, whatever its wording:
 *
 *   system     render([system: {prompt}])
 *   round      render([..., user: [{header}, image x frames, {instruction}]], add_generation_prompt)
 *              = roundHeader <image> betweenFrames <image> ... assistant
 *   end        render([..., assistant: LINE]) after LINE: its first token ends the line; the rest (a newline,
 *              say) opens the next round's header
 */
import { Template } from '@huggingface/jinja';

export interface ChatLayout {
  /** The system turn, `{prompt}` where the user's prompt goes. */
  system: string;
  /** A second's user turn up to its first frame, with `{start}` and `{end}`. */
  roundHeader: string;
  /** Text between two frames of one second (often empty). */
  betweenFrames: string;
  /** From the last frame to where the answer starts: the instruction, the end of the user turn, the assistant tag. */
  assistant: string;
  /** What the template writes after an answer (its first token is the end of turn). */
  endOfTurn: string;
}

const MARK = { prompt: '\u0001PROMPT\u0001', header: '\u0001HEADER\u0001', instruction: '\u0001INSTRUCTION\u0001', line: '\u0001LINE\u0001' };

export interface ChatTemplateInput {
  template: string;
  /** The string the template writes for an image (`<image>` for SmolVLM), or for a video with `video`. */
  imagePlaceholder: string;
  /** A second's frames as one video item (Qwen2-VL) rather than one image item per frame (SmolVLM). */
  video?: boolean;
  /** Text of a second's user turn before its frames; `{start}` and `{end}` are the second's bounds. */
  header: string;
  /** Text of a second's user turn after its frames. */
  instruction: string;
  /** Special tokens the template may use (bos_token, eos_token, ...), from tokenizer_config.json. */
  specialTokens: Record<string, string>;
}

function cut(text: string, marker: string, what: string): [string, string] {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`the chat template drops the ${what}`);
  return [text.slice(0, at), text.slice(at + marker.length)];
}

/** Throws (with a reason) when the template cannot be cut into a streaming round. */
export function chatLayoutFromTemplate(input: ChatTemplateInput): ChatLayout {
  const template = new Template(input.template);
  const render = (messages: unknown[], addGenerationPrompt: boolean): string =>
    template.render({ messages, add_generation_prompt: addGenerationPrompt, ...input.specialTokens });
  const text = (t: string) => [{ type: 'text', text: t }];
  const system = { role: 'system', content: text(MARK.prompt) };
  const media = input.video ? [{ type: 'video' }] : [{ type: 'image' }, { type: 'image' }];
  const user = { role: 'user', content: [...text(MARK.header), ...media, ...text(MARK.instruction)] };

  const systemTurn = render([system], false);
  const withUser = render([system, user], true);
  if (!withUser.startsWith(systemTurn)) throw new Error('the chat template does not render the system turn the same way before a user turn');
  const withAnswer = render([system, user, { role: 'assistant', content: text(MARK.line) }], false);

  const [headerPart, rest] = cut(withUser.slice(systemTurn.length), input.imagePlaceholder, input.video ? 'video' : 'image');
  const [between, afterFrames] = input.video ? ['', rest] : cut(rest, input.imagePlaceholder, 'second image');
  const [, endPart] = cut(withAnswer, MARK.line, 'assistant message');
  // The answer must follow the generation prompt (a space between them is the model's to write).
  if (!withAnswer.slice(0, withAnswer.indexOf(MARK.line)).startsWith(withUser.trimEnd())) {
    throw new Error('the chat template writes an answer differently from its generation prompt');
  }
  const [beforeInstruction, afterInstruction] = cut(afterFrames, MARK.instruction, 'instruction');
  const [beforeHeader, afterHeader] = cut(headerPart, MARK.header, 'round header');
  const [beforePrompt, afterPrompt] = cut(systemTurn, MARK.prompt, 'system prompt');
  return {
    system: `${beforePrompt}{prompt}${afterPrompt}`,
    roundHeader: `${beforeHeader}${input.header}${afterHeader}`,
    betweenFrames: between,
    assistant: `${beforeInstruction}${input.instruction}${afterInstruction}`,
    endOfTurn: endPart,
  };
}
