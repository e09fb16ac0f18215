package org.gantry.engine.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the engine, PID {@code org.gantry.engine}. */
@ObjectClassDefinition(
    name = "Gantry engine",
    description = "The AWS IoT Jobs device side: which things, where their data lives, timeouts.")
@interface EngineConfig {

  @AttributeDefinition(description = "The AWS IoT thing this gateway is (1-128 of [a-zA-Z0-9:_-]).")
  String thing_name();

  @AttributeDefinition(
      description =
          "Further things this gateway serves, for example downstream devices: one execution at a"
              + " time per thing, things in parallel.",
      required = false)
  String[] things() default {};

  @AttributeDefinition(
      description = "Folder for the engine's data: the journal and the executions' work folders.")
  String data_dir();

  @AttributeDefinition(
      description = "How many operations may run at once, across all things (1-256).")
  int workers() default 4;

  @AttributeDefinition(
      description =
          "Seconds to wait for the service's answer to one request before sending it again.")
  int request_timeout_seconds() default 10;

  @AttributeDefinition(
      description =
          "Step timeout in minutes (1-10080) of operation types not listed in step.timeouts: sent"
              + " with IN_PROGRESS and every progress report, and enforced on the gateway.")
  int step_timeout_minutes() default 60;

  @AttributeDefinition(
      description =
          "Step timeouts of particular operation types, as TYPE=MINUTES, for example"
              + " firmware-update=120.",
      required = false)
  String[] step_timeouts() default {};

  @AttributeDefinition(
      description =
          "Least time between two progress reports of one execution, in milliseconds; reports that"
              + " come faster are coalesced (the newest is sent).")
  int progress_interval_millis() default 1000;

  @AttributeDefinition(
      description =
          "Seconds between two looks at the queue when no notification arrives (a safety net for a"
              + " lost notify-next).")
  int poll_interval_seconds() default 300;

  @AttributeDefinition(
      description =
          "Seconds after the engine starts during which a job naming an operation that is not"
              + " installed waits for it (the gateway's operation bundles start in their own time)"
              + " instead of being REJECTED; 0 refuses at once.")
  int operation_wait_seconds() default 30;

  @AttributeDefinition(
      description =
          "While working through a queue, ask for the next job with start-next together with each"
              + " terminal status (one round trip per job instead of two). The next job then goes"
              + " IN_PROGRESS before the gateway reads its document, so a document it cannot run is"
              + " REJECTED from IN_PROGRESS; false validates every document before IN_PROGRESS.")
  boolean start_next_after_terminal() default true;
}
