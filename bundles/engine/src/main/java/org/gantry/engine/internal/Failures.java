package org.gantry.engine.internal;

import java.util.concurrent.ExecutionException;

/** Small helpers for reporting failures in log lines. */
final class Failures {

  private Failures() {}

  /** The most useful sentence of a throwable: the cause of an ExecutionException, else its own. */
  static String message(Throwable e) {
    Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }
}
