package org.gantry.api.transport;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told when an {@link MqttTransport} connects and when it loses its connection. Called on the
 * transport's delivery thread; must return quickly.
 *
 * @since 1.0
 */
@ConsumerType
public interface ConnectionListener {

  /** The transport connected and every open subscription is in place again. */
  void connected();

  /**
   * The transport lost its connection; it will reconnect by itself.
   *
   * @param cause why, may be {@code null}
   */
  void connectionLost(Throwable cause);
}
