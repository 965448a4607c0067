"""GitHub 的工作流：zizmor 离线检查不报任何问题（action 钉在提交哈希上、checkout 不留凭据等）。"""
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

WORKFLOW = ROOT / '.github' / 'workflows' / 'book.yml'


def test_zizmor_finds_nothing():
    zizmor = shutil.which('zizmor', path=str(Path(sys.executable).parent)) or shutil.which('zizmor')
    assert zizmor, 'zizmor 没有安装：运行 make setup（它在 requirements.txt 里）'
    result = subprocess.run([zizmor, '--offline', '--no-progress', str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_job_has_a_timeout_and_only_root_installs_packages():
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding='utf-8'))['jobs']
    for name, job in jobs.items():
        assert 'timeout-minutes' in job, name
        for step in job.get('steps', []):
            command = step.get('run', '')
            if 'sudo' in command:
                assert command.strip() in ('sudo make system', 'sudo make system tex'), (name, command)
    assert jobs['publish']['concurrency']['group'] == 'pages'
