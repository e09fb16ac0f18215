package org.gantry.hub.internal;

/**
 * A static thing group; members are kept by {@link HubState}. Mutable; confined to the hub thread.
 * Field names are the store's format.
 */
final class ThingGroup {
  String groupName;
  String groupId;

  /** The parent group, null for a root group; fixed at creation, so groups never form a cycle. */
  String parentGroupName;

  String description;
  long createdAt;
}
