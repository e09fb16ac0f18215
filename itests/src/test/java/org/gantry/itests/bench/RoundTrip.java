package org.gantry.itests.bench;

import javax.net.SocketFactory;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.gantry.itests.support.NoDelaySocketFactory;

/**
 * The bare MQTT request/response round trip on a broker: a requester publishes a request of the
 * size of a jobs update with QoS 1, a responder answers it from its callback with QoS 1, and the
 * requester receives the answer. That is what one AWS IoT Jobs request costs with a service that
 * takes no time at all.
 */
final class RoundTrip {

  private RoundTrip() {}

  static long[] measure(String url, String tag, int warmup, int samples)
      throws MqttException, InterruptedException {
    return measure(url, tag, warmup, samples, new NoDelaySocketFactory());
  }

  /** As {@link #measure(String, String, int, int)}, both clients through the given sockets. */
  static long[] measure(String url, String tag, int warmup, int samples, SocketFactory sockets)
      throws MqttException, InterruptedException {
    String req = "bench/" + tag + "/req";
    String resp = "bench/" + tag + "/resp";
    try (BenchClient responder =
            BenchClient.connect(
                url, "bench-rt-b-" + tag, (c, m) -> c.publish(resp, m.payload()), sockets);
        BenchClient requester = BenchClient.connect(url, "bench-rt-a-" + tag, null, sockets)) {
      responder.subscribe(req);
      requester.subscribe(resp);
      long[] nanos = new long[samples];
      String pad = "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":2,\"statusDetails\":{}";
      for (int i = -warmup; i < samples; i++) {
        String token = "rt-" + i;
        String payload = pad + ",\"clientToken\":\"" + token + "\"}";
        long t0 = System.nanoTime();
        requester.publish(req, payload);
        BenchClient.Msg m = requester.await("echo of " + token, x -> x.payload().equals(payload));
        if (i >= 0) {
          nanos[i] = m.receivedNanos() - t0;
        }
      }
      return nanos;
    }
  }
}
