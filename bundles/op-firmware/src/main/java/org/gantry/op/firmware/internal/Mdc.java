package org.gantry.op.firmware.internal;

import org.gantry.api.operation.OperationContext;
import org.slf4j.MDC;

/** Puts the execution's job id and thing name into the MDC and restores what was there before. */
final class Mdc implements AutoCloseable {

  private final String jobId;
  private final String thingName;

  private Mdc(OperationContext ctx) {
    this.jobId = MDC.get("jobId");
    this.thingName = MDC.get("thingName");
    MDC.put("jobId", ctx.jobId());
    MDC.put("thingName", ctx.thingName());
  }

  static Mdc of(OperationContext ctx) {
    return new Mdc(ctx);
  }

  @Override
  public void close() {
    restore("jobId", jobId);
    restore("thingName", thingName);
  }

  private static void restore(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
