package org.gantry.api.transport;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One MQTT 3.1.1 connection to the broker, shared by the Gantry components of a gateway. The
 * service is registered once the transport is configured; it connects, and reconnects after a loss,
 * by itself.
 *
 * <p><b>Subscriptions survive reconnects:</b> the transport re-subscribes every open {@link
 * Subscription} after each reconnect, before it tells {@link ConnectionListener}s that the
 * connection is up.
 *
 * <p><b>Threading:</b> every method may be called from any thread and none of them blocks on the
 * network. Listeners are called on a thread owned by the transport, one message at a time in order
 * of arrival, never on the MQTT client's own thread; a listener must return quickly and hand longer
 * work to a thread of its own. The stages returned by {@link #publish} and {@link #subscribe}
 * complete on that same thread: a listener must never block waiting for one (it would wait for
 * itself).
 *
 * <p><b>Arguments:</b> a {@code null} argument, a topic with wildcards, a malformed filter or a QoS
 * other than 0 or 1 is a programming error: the methods throw {@link NullPointerException} or
 * {@link IllegalArgumentException} at once rather than returning a failed stage.
 *
 * @since 1.0
 */
@ProviderType
public interface MqttTransport {

  /**
   * The MQTT client id this transport connects with.
   *
   * @return the client id
   */
  String clientId();

  /**
   * The current state of the connection.
   *
   * @return the state
   */
  ConnectionState state();

  /**
   * Publishes a message.
   *
   * @param topic the topic, without wildcards
   * @param payload the payload; not copied, do not change it afterwards
   * @param qos 0 or 1
   * @return completes when the message was handed to the network (QoS 0) or acknowledged by the
   *     broker (QoS 1); completes exceptionally with a {@link TransportException} when the
   *     transport is not connected or the connection was lost before that
   */
  CompletionStage<Void> publish(String topic, byte[] payload, int qos);

  /**
   * Subscribes to a topic filter.
   *
   * @param filter the topic filter, MQTT wildcards allowed
   * @param qos the maximum QoS to receive, 0 or 1
   * @param listener receives every message that matches the filter
   * @return completes with the subscription once the broker granted it (SUBACK); completes
   *     exceptionally with a {@link TransportException} when the broker refused it or the transport
   *     is not connected. A subscription made while disconnected is not kept.
   */
  CompletionStage<Subscription> subscribe(String filter, int qos, MessageListener listener);

  /**
   * Registers a listener for connection events. A listener added while connected is not called for
   * the current connection: check {@link #state()}.
   *
   * @param listener the listener
   */
  void addConnectionListener(ConnectionListener listener);

  /**
   * Removes a listener added with {@link #addConnectionListener}.
   *
   * @param listener the listener
   */
  void removeConnectionListener(ConnectionListener listener);
}
