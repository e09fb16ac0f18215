package org.gantry.api.transport;

import java.nio.file.Path;
import java.time.Duration;
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
 * of arrival, never on the MQTT client's own thread (unless the subscription asked for {@link
 * Delivery#IMMEDIATE}, since 1.2); a listener must return quickly and hand longer work to a thread
 * of its own. The stages returned by {@link #publish} and {@link #subscribe} complete on that same
 * thread: a listener must never block waiting for one (it would wait for itself).
 *
 * <p><b>Arguments:</b> a {@code null} argument, a topic with wildcards, a malformed filter or a QoS
 * other than 0 or 1 is a programming error: the methods throw {@link NullPointerException} or
 * {@link IllegalArgumentException} at once rather than returning a failed stage.
 *
 * <p><b>Durable messages</b> (since 1.1): {@link #publishDurably} accepts a message only once it is
 * on disk and then delivers it at least once, in order, across disconnects and restarts.
 *
 * <p>1.2 adds the choice of the delivering thread ({@link Delivery}).
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
   * Subscribes to a topic filter, choosing the thread that calls the listener. Everything else is
   * as for {@link #subscribe(String, int, MessageListener)}, which is this method with {@link
   * Delivery#TRANSPORT_THREAD}.
   *
   * <p>The default implementation ignores {@code delivery} and uses the transport's thread, which
   * every listener must tolerate: {@link Delivery#IMMEDIATE} is a permission, not a promise.
   *
   * @param filter the topic filter, MQTT wildcards allowed
   * @param qos the maximum QoS to receive, 0 or 1
   * @param listener receives every message that matches the filter
   * @param delivery which thread calls the listener
   * @return as for {@link #subscribe(String, int, MessageListener)}
   * @since 1.2
   */
  default CompletionStage<Subscription> subscribe(
      String filter, int qos, MessageListener listener, Delivery delivery) {
    java.util.Objects.requireNonNull(delivery, "delivery");
    return subscribe(filter, qos, listener);
  }

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

  /**
   * A snapshot of the connection: state, since when, last error, reconnections, and whether a
   * duplicate client id is suspected.
   *
   * @return the status now
   * @since 1.1
   */
  ConnectionStatus status();

  /**
   * Publishes a message that must not be lost, with QoS 1.
   *
   * <p>The message is first written to the transport's outbox on disk and forced to the storage
   * device; the returned stage completes at that moment, whether or not the transport is connected.
   * From then on the transport delivers the message to the broker at least once, and in order: the
   * broker receives durable messages in the order in which their stages completed. After a
   * disconnect or a restart of the runtime, sending starts again from the oldest message the broker
   * has not acknowledged. The broker may therefore see a message more than once, but never a later
   * message before an earlier one has arrived; receivers must tolerate duplicates.
   *
   * <p>Durable messages and those of {@link #publish} are independent queues: there is no order
   * between them.
   *
   * @param topic the topic, without wildcards
   * @param payload the payload; copied to disk before the stage completes
   * @return completes once the message is durable; completes exceptionally with a {@link
   *     TransportException} when it could not be written (no data folder configured, disk full,
   *     outbox over its size limit, transport closed)
   * @throws IllegalArgumentException when the topic is not a valid MQTT topic name
   * @since 1.1
   */
  CompletionStage<Void> publishDurably(String topic, byte[] payload);

  /**
   * Tries a new TLS client identity (certificate and private key), for certificate rotation.
   *
   * <p>The transport drops its connection and connects with the new identity. If that connection is
   * up (CONNACK received and every subscription in place again) within {@code timeout}, the
   * transport keeps the new identity for every later connection until it is deactivated, and the
   * stage completes with {@code true}. Otherwise the transport goes back to the identity it had
   * before, reconnects with it as usual, and the stage completes with {@code false}. The files are
   * read once, when this method is called; the caller owns making the new identity permanent (the
   * configured credential files are not changed by the transport).
   *
   * <p>Only one swap may be under way at a time.
   *
   * @param certificate the new device certificate, PEM (optionally followed by its chain)
   * @param privateKey the new private key, PEM: PKCS#8, or PKCS#1 RSA, or SEC1 EC
   * @param timeout how long the new identity has to connect, at least one second
   * @return completes with whether the new identity is now in use; completes exceptionally with a
   *     {@link TransportException} when the files cannot be read or do not match each other, the
   *     transport does not use TLS, another swap is under way, or the transport is closed
   * @throws IllegalArgumentException when {@code timeout} is shorter than one second
   * @since 1.1
   */
  CompletionStage<Boolean> trySwapIdentity(Path certificate, Path privateKey, Duration timeout);
}
