package org.gantry.api.transport;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the messages of one {@link Subscription}.
 *
 * @since 1.0
 */
@ConsumerType
@FunctionalInterface
public interface MessageListener {

  /**
   * One message. Called on the transport's delivery thread, in order of arrival; must return
   * quickly. A subscription made with {@link Delivery#IMMEDIATE} may call it on the thread that
   * received the message instead, still in order of arrival: then it must not block at all.
   *
   * @param topic the topic the message was published to
   * @param payload the payload; the listener owns it
   */
  void onMessage(String topic, byte[] payload);
}
