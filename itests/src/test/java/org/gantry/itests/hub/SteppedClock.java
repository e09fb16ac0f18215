package org.gantry.itests.hub;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UTC clock that stands still until the test steps it, registered as the hub's clock service
 * ({@code gantry.clock=hub}) so that rollouts and timeouts run on simulated minutes. Thread-safe.
 */
public final class SteppedClock extends Clock {
  private final AtomicLong millis;

  /**
   * @param startMillis the time it shows until the first step
   */
  public SteppedClock(long startMillis) {
    this.millis = new AtomicLong(startMillis);
  }

  /**
   * Moves the clock forward.
   *
   * @param ms milliseconds, at least 0
   */
  public void advance(long ms) {
    if (ms < 0) {
      throw new IllegalArgumentException("a clock does not go back: " + ms);
    }
    millis.addAndGet(ms);
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the hub reads UTC milliseconds only");
  }
}
