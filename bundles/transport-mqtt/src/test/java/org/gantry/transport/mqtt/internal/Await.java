package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes. */
final class Await {

  private Await() {}

  static void until(BooleanSupplier condition, Duration timeout, Supplier<String> message)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("within " + timeout + ": " + message.get());
      }
      Thread.sleep(10);
    }
  }

  static void until(BooleanSupplier condition, String message) throws InterruptedException {
    until(condition, Duration.ofSeconds(15), () -> message);
  }
}
