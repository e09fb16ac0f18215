package org.gantry.hub.internal;

import java.util.Objects;

/**
 * A message the hub publishes (QoS 1, not retained): an answer or a notification.
 *
 * @param topic not null
 * @param payload not null
 */
record Outbound(String topic, byte[] payload) {
  Outbound {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
  }
}
