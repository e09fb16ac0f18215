package org.gantry.hub.internal;

import java.util.ArrayList;
import java.util.List;

/** A job. Mutable; confined to the hub thread. Field names are the store's format. */
final class Job {
  /** Job status values, as AWS IoT names them. */
  static final String IN_PROGRESS = "IN_PROGRESS";

  static final String COMPLETED = "COMPLETED";

  String jobId;

  /** The job document as the caller wrote it (a JSON object, at most 32,768 characters). */
  String document;

  String description;
  String targetSelection = "SNAPSHOT";

  /** Thing names, in the order the job named them. */
  List<String> targets = new ArrayList<>();

  String status = IN_PROGRESS;
  long createdAt;
  long lastUpdatedAt;
  Long completedAt;

  /** Stored and shown; enforced from issue 7 on. */
  Long inProgressTimeoutInMinutes;
}
