"""govcloud's Grafana dashboards as code (grafanalib): fleet, department, system, provisioning,
backups and SLA.

    .venv/bin/python config/grafana/dashboards.py     # writes config/grafana/dashboards/*.json

The JSON files are committed (Grafana's file provisioning reads them, provisioning.yml beside this
file); tests/unit/test_grafana_dashboards.py fails when they differ from what this file generates,
and tests/integration/test_prometheus_stack.py runs every panel's query against a real Prometheus
scraping a portal with data. Costly or SLA expressions come from the recording rules in
config/prometheus/recording.yml (`govcloud:...`). Titles are Chinese first, English after.
"""
import json
import sys
from pathlib import Path

from grafanalib.core import (BYTES_FORMAT, PERCENT_UNIT_FORMAT, SECONDS_FORMAT, Dashboard, GridPos, Stat, Table,
                             Target, Template, Templating, Time, TimeSeries)
from grafanalib._gen import DashboardEncoder

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
DEPT = 'department=~"$department"'
SYSTEM = 'department=~"$department", system=~"$system"'


def datasource_variable():
    return Template(name="datasource", label="数据源 / Data source", query="prometheus", type="datasource")


def department_variable(multi=True):
    return Template(name="department", label="使用部门(单位) / Department", dataSource=DATASOURCE,
                    query="label_values(govcloud_servers, department)", includeAll=multi, multi=multi,
                    allValue=".*" if multi else None)


def system_variable():
    return Template(name="system", label="应用系统 / System", dataSource=DATASOURCE,
                    query='label_values(govcloud_probe_success{department=~"$department"}, system)',
                    includeAll=True, multi=True, allValue=".*")


def targets(*exprs):
    """Prometheus targets A, B, ... of the expressions (each a (expr, legend) or an expr)."""
    out = []
    for i, item in enumerate(exprs):
        expr, legend = item if isinstance(item, tuple) else (item, "")
        out.append(Target(expr=expr, legendFormat=legend, refId=chr(ord("A") + i), datasource=DATASOURCE))
    return out


def stat(title, *exprs, unit="none", x=0, y=0, w=6, h=4):
    return Stat(title=title, dataSource=DATASOURCE, targets=targets(*exprs), format=unit, reduceCalc="lastNotNull",
                gridPos=GridPos(h=h, w=w, x=x, y=y))


def series(title, *exprs, unit="", x=0, y=0, w=12, h=8, stacked=False):
    return TimeSeries(title=title, dataSource=DATASOURCE, targets=targets(*exprs), unit=unit,
                      stacking={"mode": "normal"} if stacked else {"mode": "none"},
                      gridPos=GridPos(h=h, w=w, x=x, y=y))


def table(title, *exprs, unit="none", x=0, y=0, w=24, h=8):
    return Table(title=title, dataSource=DATASOURCE, targets=[dict(t.to_json_data(), instant=True, format="table")
                                                              for t in targets(*exprs)],
                 unit=unit, gridPos=GridPos(h=h, w=w, x=x, y=y))


def dashboard(uid, title, panels, variables=()):
    return Dashboard(uid=uid, title=title, tags=["govcloud"], timezone="Asia/Shanghai", refresh="1m",
                     time=Time("now-24h", "now"), panels=panels,
                     templating=Templating(list=[datasource_variable(), *variables])).auto_panel_ids()


def fleet():
    return dashboard("govcloud-fleet", "政务云 总览 / govcloud fleet", [
        stat("云服务可用 / Cloud services up", "min(govcloud_cloud_service_up)", x=0),
        stat("未恢复故障事件 / Open incidents", "sum(govcloud_incidents_open) or vector(0)", x=6),
        stat("进行中的维护窗口 / Maintenance in progress", "govcloud_maintenance_windows_active", x=12),
        stat("指标新鲜度 / Metrics age", "time() - govcloud_metrics_render_timestamp_seconds", unit=SECONDS_FORMAT,
             x=18),
        series("云主机 / Servers by status", ("govcloud:servers:sum_by_status", "{{status}}"), y=4, stacked=True),
        series("平台容量使用率 / Capacity used", ("govcloud:cloud_capacity:used_ratio", "{{resource}}"),
               unit=PERCENT_UNIT_FORMAT, x=12, y=4),
        series("各部门云主机 / Servers by department", ("govcloud:servers:sum_by_department", "{{department}}"),
               y=12, stacked=True),
        series("采集周期 / Collection cycle", ("govcloud_inventory_snapshot_duration_seconds", "inventory"),
               ("govcloud_metrics_render_duration_seconds", "/metrics rendering"), unit=SECONDS_FORMAT, x=12, y=12),
        series("调度任务距上次成功 / Scheduler jobs since last success",
               ("time() - govcloud_job_last_success_timestamp_seconds", "{{scheduler_job}}"), unit=SECONDS_FORMAT,
               y=20, w=24),
    ])


def department():
    return dashboard("govcloud-department", "政务云 使用部门 / govcloud department", [
        stat("云主机 / Servers", f"sum(govcloud_servers{{{DEPT}}})", x=0),
        stat("虚拟CPU / vCPUs", f"sum(govcloud_server_vcpus{{{DEPT}}})", x=6),
        stat("内存 / RAM", f"sum(govcloud_server_memory_bytes{{{DEPT}}})", unit=BYTES_FORMAT, x=12),
        stat("未恢复故障事件 / Open incidents", f"sum(govcloud_incidents_open{{{DEPT}}}) or vector(0)", x=18),
        series("云主机状态 / Servers by status", (f"sum by (status) (govcloud_servers{{{DEPT}}})", "{{status}}"),
               y=4, stacked=True),
        series("云硬盘容量 / Volume bytes", (f"govcloud_volume_bytes{{{DEPT}}}", "{{department}}"), unit=BYTES_FORMAT,
               x=12, y=4),
        series("本月可用率 / Availability this month",
               (f"govcloud:sla_availability:min_by_department{{{DEPT}}}", "{{department}}"),
               unit=PERCENT_UNIT_FORMAT, y=12),
        series("最新卷备份距今 / Age of the newest volume backup",
               (f"time() - govcloud_backup_last_success_timestamp_seconds{{{DEPT}}}", "{{department}}"),
               unit=SECONDS_FORMAT, x=12, y=12),
    ], [department_variable()])


def system():
    return dashboard("govcloud-system", "政务云 应用系统 / govcloud system", [
        series("探测结果 / Probe results", (f"govcloud_probe_success{{{SYSTEM}}}", "{{system}} {{kind}}"), y=0),
        series("探测耗时 / Probe duration", (f"govcloud_probe_duration_seconds{{{SYSTEM}}}", "{{system}} {{kind}}"),
               unit=SECONDS_FORMAT, x=12, y=0),
        series("一小时可用率 / Availability over the last hour",
               (f"govcloud:probe_success:avg_over_1h{{{SYSTEM}}}", "{{system}} {{kind}}"), unit=PERCENT_UNIT_FORMAT,
               y=8),
        series("本月中断时长 / Outage this month", (f"govcloud_sla_downtime_seconds{{{SYSTEM}}}", "{{system}}"),
               unit=SECONDS_FORMAT, x=12, y=8),
    ], [department_variable(), system_variable()])


def provisioning():
    return dashboard("govcloud-provisioning", "政务云 资源开通 / govcloud provisioning", [
        series("资源申请 / Requests by state", ("sum by (state) (govcloud_requests)", "{{state}}"), stacked=True),
        series("开通作业 / Provisioning jobs by state", ("govcloud_provisioning_jobs", "{{state}}"), x=12),
        series("开通失败（每小时） / Failures per hour", ("govcloud:provisioning_failures:increase_1h", "{{reason}}"),
               y=8),
        series("步骤耗时 p90 / Step duration p90", ("govcloud:provisioning_step_seconds:p90", "{{kind}}"),
               unit=SECONDS_FORMAT, x=12, y=8),
        series("审批与交付耗时 p50 / Review and delivery p50",
               ("histogram_quantile(0.5, govcloud_request_review_duration_seconds_bucket)", "review"),
               ("histogram_quantile(0.5, govcloud_request_provisioning_duration_seconds_bucket)", "delivery"),
               unit=SECONDS_FORMAT, y=16, w=24),
    ])


def backups():
    return dashboard("govcloud-backups", "政务云 备份 / govcloud backups", [
        series("最新备份距今 / Age of the newest backup",
               ("time() - govcloud_backup_run_last_success_timestamp_seconds", "{{kind}}"), unit=SECONDS_FORMAT),
        series("验证距今 / Since the last verification", ("govcloud_backup_verification_age_seconds", "{{kind}}"),
               unit=SECONDS_FORMAT, x=12),
        series("备份容量 / Size of the newest backups", ("govcloud_backup_size_bytes", "{{kind}}"), unit=BYTES_FORMAT,
               y=8),
        series("失败尝试（每小时） / Failed attempts per hour", ("govcloud:backup_failures:increase_1h", "{{kind}}"),
               x=12, y=8),
        series("备份作业 / Backup runs by state", ("govcloud_backup_runs", "{{state}}"), y=16, stacked=True),
        series("恢复 / Restores", ("sum by (state) (govcloud_backup_restores)", "{{state}}"), x=12, y=16),
    ])


def sla():
    return dashboard("govcloud-sla", "政务云 服务水平 / govcloud SLA", [
        stat("低于目标的系统 / Systems below target", "govcloud:sla_systems_below_target:count", x=0, w=8),
        stat("最低可用率 / Lowest availability", "min(govcloud_sla_availability_ratio)", unit=PERCENT_UNIT_FORMAT,
             x=8, w=8),
        stat("本月中断合计 / Outage this month", "sum(govcloud_sla_downtime_seconds)", unit=SECONDS_FORMAT, x=16,
             w=8),
        table("各系统本月可用率 / Availability by system",
              ("govcloud_sla_availability_ratio{department=~\"$department\"}", ""), unit=PERCENT_UNIT_FORMAT, y=4),
        series("各部门最低可用率 / Lowest availability by department",
               ("govcloud:sla_availability:min_by_department{department=~\"$department\"}", "{{department}}"),
               unit=PERCENT_UNIT_FORMAT, y=12, w=24),
    ], [department_variable()])


DASHBOARDS = {"fleet": fleet, "department": department, "system": system, "provisioning": provisioning,
              "backups": backups, "sla": sla}


def render(name):
    """The JSON text of one dashboard, as committed."""
    data = DASHBOARDS[name]().to_json_data()
    return json.dumps(data, cls=DashboardEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def panel_queries(data):
    """[(panel title, expr)] of a dashboard's JSON."""
    return [(panel["title"], target["expr"]) for panel in data["panels"] for target in panel.get("targets", [])]


def main(out=OUT):
    out.mkdir(exist_ok=True)
    for name in DASHBOARDS:
        (out / f"govcloud-{name}.json").write_text(render(name), encoding="utf-8")
    print(f"{len(DASHBOARDS)} dashboards written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
