package org.gantry.engine.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the engine, PID {@code org.gantry.engine}. */
@ObjectClassDefinition(
    name = "Gantry engine",
    description = "The AWS IoT Jobs device side of one thing: which thing, where its data lives.")
@interface EngineConfig {

  @AttributeDefinition(
      description = "The AWS IoT thing this gateway serves (1-128 of [a-zA-Z0-9:_-]).")
  String thing_name();

  @AttributeDefinition(description = "Folder for the engine's data (work folders of executions).")
  String data_dir();

  @AttributeDefinition(
      description =
          "Seconds to wait for the service's answer to one request before sending it again.")
  int request_timeout_seconds() default 10;

  @AttributeDefinition(
      description =
          "Step timeout sent with IN_PROGRESS, in minutes (1-10080); an operation still running then"
              + " is cancelled and the execution reported FAILED.")
  int step_timeout_minutes() default 60;

  @AttributeDefinition(
      description =
          "Seconds between two looks at the queue when no notification arrives (a safety net for a"
              + " lost notify-next).")
  int poll_interval_seconds() default 300;
}
