"""The operations pages' reads, cached per warehouse and scope (data_access.operations)."""

from components import cached
from data_access import operations as ops


@cached.cache_query()
def line_components(engine, scope, start, end, by, line_id=None):
    return ops.line_components(engine, scope, start, end, by, line_id)


@cached.cache_query()
def downtime_breakdown(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.downtime_breakdown(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def downtime_reasons(engine):
    return ops.downtime_reasons(engine)


@cached.cache_query()
def asset_operating(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.asset_operating(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def work_order_flow(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.work_order_flow(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def work_order_backlog(engine, scope, at_day, by, line_id=None, asset_id=None):
    return ops.work_order_backlog(engine, scope, at_day, by, line_id, asset_id)


@cached.cache_query()
def material_positions(engine, scope, start, end, material_id=None):
    return ops.material_positions(engine, scope, start, end, material_id)


@cached.cache_query()
def material_history(engine, scope, start, end, material_id):
    return ops.material_history(engine, scope, start, end, material_id)


@cached.cache_query()
def deliveries(engine, scope, start, end, by, material_id=None):
    return ops.deliveries(engine, scope, start, end, by, material_id)


@cached.cache_query()
def open_orders(engine, scope, through_day, line_id=None):
    return ops.open_orders(engine, scope, through_day, line_id)


@cached.cache_query()
def order_inputs(engine, scope, through_day, line_id=None):
    return ops.order_inputs(engine, scope, through_day, line_id)


@cached.cache_query()
def open_purchase_orders(engine, scope, through_day):
    return ops.open_purchase_orders(engine, scope, through_day)


@cached.cache_query()
def late_orders(engine, scope, start, end, line_id=None):
    return ops.late_orders(engine, scope, start, end, line_id)
