package org.gantry.api.transport;

/**
 * The state of an {@link MqttTransport}'s connection.
 *
 * @since 1.0
 */
public enum ConnectionState {
  /** Not connected; the transport is waiting before its next attempt, or has been closed. */
  DISCONNECTED,
  /** A connection attempt is under way. */
  CONNECTING,
  /** Connected, and every open subscription is in place again. */
  CONNECTED
}
