package org.gantry.transport.mqtt.internal;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an action once, on the writing thread, after the first bytes go through any stream it
 * watches. One instance per socket: Paho may ask a socket for its output stream more than once.
 */
final class FirstWrite {

  private final Runnable action;
  private final AtomicBoolean done = new AtomicBoolean();

  FirstWrite(Runnable action) {
    this.action = action;
  }

  OutputStream watch(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(int b) throws IOException {
        out.write(b);
        wrote();
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        wrote();
      }
    };
  }

  private void wrote() {
    if (done.compareAndSet(false, true)) {
      action.run();
    }
  }
}
