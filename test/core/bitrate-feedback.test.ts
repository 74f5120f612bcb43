import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MIN_FEEDBACK_BPS, PublisherBitrate } from '../../core/bitrate-feedback.js';

/** One second in which the publisher sent `bps`. */
function tick(bitrate: PublisherBitrate, bps: number, shares: number[]): number | null | undefined {
  bitrate.windowBytes = bps / 8;
  return bitrate.tick(shares, 1000);
}

test('PublisherBitrate.tick() says nothing while a receiver is uncongested', () => {
  const bitrate = new PublisherBitrate();
  assert.is(tick(bitrate, 500_000, [Infinity, 200_000]), undefined);
});

test('PublisherBitrate.tick() limits to the best congested share, then climbs back and lifts the limit', () => {
  const bitrate = new PublisherBitrate();
  assert.is(tick(bitrate, 500_000, [200_000, 150_000]), 200_000);
  assert.is(tick(bitrate, 200_000, [195_000]), undefined, 'within 10%: not told again');
  // The receivers recovered: the limit grows by a quarter a second while the publisher follows it...
  assert.is(tick(bitrate, 200_000, [Infinity]), 250_000);
  assert.is(tick(bitrate, 250_000, [Infinity]), 312_500);
  // ...until the publisher stops following (its own maximum), and the limit is lifted.
  const told: Array<number | null | undefined> = [];
  for (let i = 0; i < 10 && told.at(-1) !== null; i++) told.push(tick(bitrate, 300_000, [Infinity]));
  assert.equal(told, [390_625, 488_281, null], 'lifted once twice what the publisher sends');
});

test('PublisherBitrate.tick() never goes below MIN_FEEDBACK_BPS, and says nothing without receivers', () => {
  const bitrate = new PublisherBitrate();
  assert.is(tick(bitrate, 500_000, [1000]), MIN_FEEDBACK_BPS);
  assert.is(tick(bitrate, 500_000, []), undefined);
});

test.run();
