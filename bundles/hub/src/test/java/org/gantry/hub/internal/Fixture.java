package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;

/** A hub core over a real store in a folder, with a clock the test sets. */
final class Fixture {
  final Path dir;
  long now = 1_700_000_000_000L;
  final HubCore core;
  final DeviceApi device;
  final ControlPlane control;
  final JobsCodec codec = new JobsCodec();

  Fixture(Path dir) throws IOException {
    this.dir = dir;
    HubStore store = new HubStore(dir);
    this.core = new HubCore(store, store.load(), () -> now);
    this.device = new DeviceApi(core);
    this.control = new ControlPlane(core, new Arns("us-east-1", "123456789012"));
  }

  List<Outbound> createJob(String jobId, String document, String... things) throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("document", document);
    JsonArray targets = new JsonArray();
    for (String t : things) {
      targets.add("arn:aws:iot:us-east-1:123456789012:thing/" + t);
    }
    body.add("targets", targets);
    List<Outbound> out = new ArrayList<>();
    control.createJob(jobId, body, out);
    return out;
  }

  List<Outbound> send(String topic, String json) {
    return device.handle(topic, json.getBytes(StandardCharsets.UTF_8));
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
