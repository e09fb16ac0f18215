package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;

/**
 * A hub core over a real store in a folder, with a manual clock the test sets. Each call runs as
 * the hub thread runs a batch: the call, then a tick of the clock, then the commit to disk.
 */
final class Fixture {
  static final long MINUTE = 60_000L;

  final Path dir;
  long now = 1_700_000_000_000L;
  HubStore store;
  HubCore core;
  DeviceApi device;
  ControlPlane control;
  final JobsCodec codec = new JobsCodec();

  Fixture(Path dir) throws IOException {
    this.dir = dir;
    open();
  }

  private void open() throws IOException {
    this.store = new HubStore(dir);
    this.core = new HubCore(store, store.load(), () -> now);
    this.device = new DeviceApi(core);
    this.control = new ControlPlane(core, new Arns("us-east-1", "123456789012"));
  }

  /** The hub stops (its memory is dropped) and starts again from its store. */
  void restart() throws IOException {
    store.close();
    open();
  }

  /** A management call, as the hub thread runs it. */
  <T> T call(HubLoop.Work<T> work, List<Outbound> out) throws Exception {
    T result = work.run(out);
    batchEnd(out);
    return result;
  }

  /** Moves the clock and lets the hub tick; returns what it published. */
  List<Outbound> advance(long millis) throws Exception {
    now += millis;
    List<Outbound> out = new ArrayList<>();
    batchEnd(out);
    return out;
  }

  private void batchEnd(List<Outbound> out) throws HubCore.NotStoredException {
    core.tick(out);
    core.commit();
  }

  List<Outbound> createJob(String jobId, String document, String... things) throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("document", document);
    JsonArray targets = new JsonArray();
    for (String t : things) {
      targets.add("arn:aws:iot:us-east-1:123456789012:thing/" + t);
    }
    body.add("targets", targets);
    return createJob(jobId, body);
  }

  List<Outbound> createJob(String jobId, JsonObject body) throws Exception {
    List<Outbound> out = new ArrayList<>();
    call(o -> control.createJob(jobId, body, o), out);
    return out;
  }

  /** CreateJob with a JSON body written by the test. */
  List<Outbound> createJob(String jobId, String json) throws Exception {
    return createJob(jobId, JsonParser.parseString(json).getAsJsonObject());
  }

  List<Outbound> send(String topic, String json) throws Exception {
    return sendBytes(topic, json.getBytes(StandardCharsets.UTF_8));
  }

  /** A device request, as the hub thread runs it: refused with InternalError when not stored. */
  List<Outbound> sendBytes(String topic, byte[] payload) throws Exception {
    List<Outbound> out = new ArrayList<>();
    try {
      call(
          o -> {
            o.addAll(device.handle(topic, payload));
            return null;
          },
          out);
    } catch (HubCore.NotStoredException e) {
      out.clear();
      out.addAll(device.notStored(topic, payload, e.getMessage()));
    }
    return out;
  }

  static Outbound only(List<Outbound> out, String topic) {
    List<Outbound> found = out.stream().filter(o -> o.topic().equals(topic)).toList();
    if (found.size() != 1) {
      fail("expected one message on " + topic + " in " + topics(out));
    }
    return found.get(0);
  }

  static List<String> topics(List<Outbound> out) {
    return out.stream().map(Outbound::topic).toList();
  }

  <T> T accepted(List<Outbound> out, String requestTopic, Class<T> type) throws ProtocolException {
    return codec.decode(only(out, requestTopic + "/accepted").payload(), type);
  }

  Rejected rejected(List<Outbound> out, String requestTopic, ErrorCode code)
      throws ProtocolException {
    Rejected r = codec.decode(only(out, requestTopic + "/rejected").payload(), Rejected.class);
    assertEquals(code, r.code(), r.message());
    return r;
  }
}
