/**
 * quote(): PowerShell's single-quoted strings, with all five characters PowerShell takes as a single
 * quote doubled. Each result is also parsed with the PowerShell grammar and read back by
 * PowerShell's tokenizer rules (test/support/powershell.ts).
 */
import { expect } from 'chai';
import { quote } from '../src/quote.js';
import {
  checkScript,
  decodeVerbatim,
  literalValue,
  parse,
  powershellParser,
  unwrap,
} from './support/powershell.js';

const QUOTES = ["'", '\u2018', '\u2019', '\u201A', '\u201B'];

/** Parse `quote(value)` as a statement of its own and read the literal back. */
async function roundTrip(value: string): Promise<string> {
  const tree = await checkScript(quote(value) + '\n');
  return literalValue(unwrap(tree.rootNode));
}

describe('powershell quote()', () => {
  before(() => powershellParser());

  it('wraps in ASCII single quotes and leaves everything but single quotes alone', () => {
    expect(quote('')).to.equal("''");
    expect(quote('plain')).to.equal("'plain'");
    expect(quote('$env:HOME $(x) `n "dq" \\ %PATH% ; & | @args')).to.equal(
      '\'$env:HOME $(x) `n "dq" \\ %PATH% ; & | @args\'',
    );
    expect(quote('a\nb\r\nc\td')).to.equal("'a\nb\r\nc\td'");
    // The typographic double quotes (“ ” „) are double quotes to PowerShell: nothing inside '…'.
    expect(quote('\u201C\u201D\u201E')).to.equal("'\u201C\u201D\u201E'");
  });

  it('doubles the ASCII quote', () => {
    expect(quote("'")).to.equal("''''");
    expect(quote("it's")).to.equal("'it''s'");
    expect(quote("''")).to.equal("''''''");
  });

  it('doubles each of the Unicode single quotes U+2018, U+2019, U+201A, U+201B as itself', () => {
    expect(quote('\u2018')).to.equal("'\u2018\u2018'");
    expect(quote('\u2019')).to.equal("'\u2019\u2019'");
    expect(quote('\u201A')).to.equal("'\u201A\u201A'");
    expect(quote('\u201B')).to.equal("'\u201B\u201B'");
    expect(quote('it\u2019s')).to.equal("'it\u2019\u2019s'");
    expect(quote("'\u2019")).to.equal("'''\u2019\u2019'");
  });

  it('refuses NUL, which no environment variable can hold', () => {
    expect(() => quote('a\0b')).to.throw(/NUL/);
    expect(() => quote('\0')).to.throw(/NUL/);
  });

  it('the checker itself catches an undoubled Unicode quote (the grammar alone would not)', async () => {
    // The grammar reads this as one string; PowerShell ends it at ’ and runs `touch pwned'` as code.
    const tree = await parse("'a\u2019; touch pwned'\n");
    expect(tree.rootNode.hasError).to.equal(false);
    expect(() => literalValue(unwrap(tree.rootNode))).to.throw(/PowerShell ends this string/);
    expect(decodeVerbatim("'a\u2019; touch pwned'").value).to.equal('a');
  });

  it('round-trips every string of up to 4 characters over the quotes, a letter and a newline', async () => {
    const alphabet = [...QUOTES, 'a', '\n'];
    const values = [''];
    for (let length = 1; length <= 4; length++) {
      for (const prefix of values.filter((v) => v.length === length - 1)) {
        for (const c of alphabet) values.push(prefix + c);
      }
    }
    expect(values.length).to.equal(1 + 7 + 49 + 343 + 2401);
    for (const value of values) expect(await roundTrip(value), JSON.stringify(value)).to.equal(value);
  });

  it('round-trips values around the quotes: leading, trailing, doubled, next to $ and backticks', async () => {
    for (const q of QUOTES) {
      for (const value of [
        q,
        q + q,
        `${q}x`,
        `x${q}`,
        `${q}$(x)${q}`,
        `\`${q}\``,
        `${q}\n${q}`,
        `${q}'${q}`,
      ]) {
        expect(await roundTrip(value), JSON.stringify(value)).to.equal(value);
      }
    }
  });
});
