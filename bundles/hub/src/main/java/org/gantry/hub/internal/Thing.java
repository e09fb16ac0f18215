package org.gantry.hub.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/** A registered thing. Mutable; confined to the hub thread. Field names are the store's format. */
final class Thing {
  String thingName;
  String thingId;
  Map<String, String> attributes = new LinkedHashMap<>();
  long createdAt;
}
