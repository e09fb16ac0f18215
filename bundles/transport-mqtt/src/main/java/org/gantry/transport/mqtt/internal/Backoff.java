package org.gantry.transport.mqtt.internal;

import java.util.function.DoubleSupplier;

/**
 * Reconnect delays: exponential from a minimum to a maximum, with "equal jitter" (a random point in
 * the upper half of the current step). The jitter keeps a fleet of gateways that lost the same
 * broker from reconnecting in lock-step; the lower bound keeps a flapping broker from being
 * hammered.
 */
final class Backoff {

  private final long minMillis;
  private final long maxMillis;
  private final DoubleSupplier random;

  /**
   * @param random uniform values in [0, 1)
   */
  Backoff(long minMillis, long maxMillis, DoubleSupplier random) {
    if (minMillis < 1 || maxMillis < minMillis) {
      throw new IllegalArgumentException(
          "backoff needs 1 <= min <= max, got min " + minMillis + " and max " + maxMillis);
    }
    this.minMillis = minMillis;
    this.maxMillis = maxMillis;
    this.random = random;
  }

  /**
   * The delay before the next attempt.
   *
   * @param failedAttempts attempts that failed since the last successful connection
   * @return a delay in [min, max] milliseconds
   */
  long delayMillis(int failedAttempts) {
    long step = minMillis;
    for (int i = 0; i < failedAttempts && step < maxMillis; i++) {
      step = step > maxMillis / 2 ? maxMillis : step * 2;
    }
    step = Math.min(step, maxMillis);
    long half = step / 2;
    long jittered = half + (long) (random.getAsDouble() * (step - half + 1));
    return Math.max(minMillis, Math.min(maxMillis, jittered));
  }
}
