package org.gantry.engine.internal;

import java.util.Objects;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.Rejected;

/**
 * The service's answer to one request: either the accepted payload or the rejection.
 *
 * @param <T> the accepted payload's type
 */
record Reply<T>(T accepted, Rejected rejected) {

  Reply {
    if ((accepted == null) == (rejected == null)) {
      throw new IllegalArgumentException("exactly one of accepted and rejected");
    }
  }

  static <T> Reply<T> ok(T accepted) {
    return new Reply<>(Objects.requireNonNull(accepted), null);
  }

  static <T> Reply<T> no(Rejected rejected) {
    return new Reply<>(null, Objects.requireNonNull(rejected));
  }

  boolean isAccepted() {
    return accepted != null;
  }

  boolean rejectedWith(ErrorCode code) {
    return rejected != null && rejected.code() == code;
  }
}
