package org.gantry.engine.internal;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import org.gantry.api.transport.ConnectionListener;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.Delivery;
import org.gantry.api.transport.MessageListener;
import org.gantry.api.transport.MqttTransport;
import org.gantry.api.transport.Subscription;
import org.gantry.api.transport.TransportException;

/**
 * An in-memory MqttTransport: what the engine publishes goes to a test's "service" handler, and
 * what the handler delivers reaches the matching subscriptions, on one delivery thread as with the
 * real transport.
 */
final class FakeTransport {

  private final ExecutorService delivery = Executors.newSingleThreadExecutor();

  /**
   * This fake as the transport service. A proxy, so that methods the API gains later (which these
   * tests do not use) need no change here: they throw UnsupportedOperationException.
   */
  MqttTransport asService() {
    return (MqttTransport)
        Proxy.newProxyInstance(
            MqttTransport.class.getClassLoader(),
            new Class<?>[] {MqttTransport.class},
            (proxy, method, args) -> {
              return switch (method.getName()) {
                case "clientId" -> clientId();
                case "state" -> state();
                case "publish" -> publish((String) args[0], (byte[]) args[1], (Integer) args[2]);
                case "subscribe" ->
                    subscribe(
                        (String) args[0],
                        (Integer) args[1],
                        (MessageListener) args[2],
                        args.length > 3 ? (Delivery) args[3] : Delivery.TRANSPORT_THREAD);
                case "addConnectionListener" -> {
                  addConnectionListener((ConnectionListener) args[0]);
                  yield null;
                }
                case "removeConnectionListener" -> {
                  removeConnectionListener((ConnectionListener) args[0]);
                  yield null;
                }
                case "toString" -> "FakeTransport";
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> throw new UnsupportedOperationException(method.getName());
              };
            });
  }

  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
  private volatile ConnectionState state = ConnectionState.CONNECTED;
  private volatile BiConsumer<String, byte[]> service = (t, p) -> {};

  private final class Sub implements Subscription {
    final String filter;
    final MessageListener listener;
    final Delivery delivery;

    Sub(String filter, MessageListener listener, Delivery delivery) {
      this.filter = filter;
      this.listener = listener;
      this.delivery = delivery;
    }

    @Override
    public String filter() {
      return filter;
    }

    @Override
    public void close() {
      subs.remove(this);
    }
  }

  void service(BiConsumer<String, byte[]> handler) {
    this.service = handler;
  }

  /** Delivers a message from the "service" to the engine's matching subscriptions. */
  void deliver(String topic, byte[] payload) {
    delivery.execute(
        () -> {
          for (Sub s : subs) {
            if (matches(s.filter, topic)) {
              s.listener.onMessage(topic, payload);
            }
          }
        });
  }

  List<String> subscribedFilters() {
    return subs.stream().map(s -> s.filter).toList();
  }

  /** How each subscription asked to be delivered, in the order of {@link #subscribedFilters()}. */
  List<Delivery> deliveries() {
    return subs.stream().map(s -> s.delivery).toList();
  }

  void disconnect() {
    state = ConnectionState.DISCONNECTED;
    delivery.execute(() -> listeners.forEach(l -> l.connectionLost(null)));
  }

  void reconnect() {
    state = ConnectionState.CONNECTED;
    delivery.execute(() -> listeners.forEach(ConnectionListener::connected));
  }

  static boolean matches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length || !(f[i].equals("+") || f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }

  String clientId() {
    return "fake";
  }

  ConnectionState state() {
    return state;
  }

  CompletionStage<Void> publish(String topic, byte[] payload, int qos) {
    if (state != ConnectionState.CONNECTED) {
      return CompletableFuture.failedFuture(new TransportException("not connected", null));
    }
    delivery.execute(() -> service.accept(topic, payload));
    return CompletableFuture.completedFuture(null);
  }

  CompletionStage<Subscription> subscribe(
      String filter, int qos, MessageListener listener, Delivery delivery) {
    if (state != ConnectionState.CONNECTED) {
      return CompletableFuture.failedFuture(new TransportException("not connected", null));
    }
    Sub s = new Sub(filter, listener, delivery);
    subs.add(s);
    return CompletableFuture.completedFuture(s);
  }

  void addConnectionListener(ConnectionListener listener) {
    listeners.add(listener);
  }

  void removeConnectionListener(ConnectionListener listener) {
    listeners.remove(listener);
  }

  void close() {
    delivery.shutdownNow();
  }

  /** Sends each request to the test service of the thing in its topic. */
  static final class Router implements BiConsumer<String, byte[]> {
    private final List<MiniJobsService> services;

    Router(MiniJobsService... services) {
      this.services = List.of(services);
    }

    @Override
    public void accept(String topic, byte[] payload) {
      for (MiniJobsService s : services) {
        if (topic.startsWith("$aws/things/" + s.thing() + "/")) {
          s.handle(topic, payload);
        }
      }
    }
  }
}
