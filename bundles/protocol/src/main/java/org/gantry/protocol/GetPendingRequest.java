package org.gantry.protocol;

/**
 * Request on {@code $aws/things/T/jobs/get}: list the pending executions.
 *
 * @param clientToken echoed in the answer; null to omit
 */
public record GetPendingRequest(String clientToken) {}
