package org.gantry.protocol;

import java.util.Map;

/**
 * Request on {@code $aws/things/T/jobs/start-next}: take the head of the queue and put it
 * IN_PROGRESS.
 *
 * @param statusDetails the details to store; null to omit (unlike in answers, null is kept)
 * @param stepTimeoutInMinutes the step timer, 1..10080; null to omit
 * @param clientToken echoed in the answer; null to omit
 */
public record StartNextRequest(
    Map<String, String> statusDetails, Long stepTimeoutInMinutes, String clientToken) {
  public StartNextRequest {
    statusDetails = Immutables.details(statusDetails, "statusDetails");
  }
}
